// How figures read on the dashboard; "–" where there is no data yet.
export const pct = (v: number | null) => (v === null ? "–" : `${Math.round(v * 100)} %`);
export const num = (v: number | null, digits = 1) => (v === null ? "–" : v.toFixed(digits));
export const kbps = (bps: number) => (bps >= 1e6 ? `${(bps / 1e6).toFixed(1)} Mbit/s` : `${Math.round(bps / 1000)} kbit/s`);
