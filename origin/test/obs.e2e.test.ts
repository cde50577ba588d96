// Debian's real OBS Studio, configured the way the README tells a user, streams to the origin.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { startOrigin, waitFor } from "./support/origin-process.js";
import { fetchSegment, tempFile, waitForSegment, waitLive } from "./support/hls.js";
import { ffprobeStreams } from "./support/publisher.js";

const KEY = "obs-studio-key-1";

/**
 * An OBS home with one profile (Custom service, the origin's server URL and key, 640x360 out)
 * and one empty scene: without a scene collection, a first start waits on the user.
 */
function obsHome(rtmpPort: number): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "obs-home-"));
  const config = path.join(home, ".config", "obs-studio");
  const profile = path.join(config, "basic", "profiles", "Peercast");
  fs.mkdirSync(profile, { recursive: true });
  fs.mkdirSync(path.join(config, "basic", "scenes"));
  const scene = { id: "scene", versioned_id: "scene", name: "Scene", settings: { id_counter: 0, items: [] } };
  fs.writeFileSync(
    path.join(config, "basic", "scenes", "Peercast.json"),
    JSON.stringify({ name: "Peercast", current_scene: "Scene", current_program_scene: "Scene", scene_order: [{ name: "Scene" }], sources: [scene] }),
  );
  // FirstRun + LastVersion: no auto-configuration wizard on first start.
  fs.writeFileSync(
    path.join(config, "global.ini"),
    "[General]\nFirstRun=true\nLastVersion=486539266\nEnableAutoUpdates=false\n\n" +
      "[Basic]\nProfile=Peercast\nProfileDir=Peercast\nSceneCollection=Peercast\nSceneCollectionFile=Peercast\n",
  );
  fs.writeFileSync(
    path.join(profile, "basic.ini"),
    "[General]\nName=Peercast\n\n[Video]\nBaseCX=1280\nBaseCY=720\nOutputCX=640\nOutputCY=360\nFPSType=0\nFPSCommon=30\n\n" +
      "[Output]\nMode=Simple\n\n[SimpleOutput]\nVBitrate=1000\nStreamEncoder=x264\nABitrate=160\nPreset=veryfast\n",
  );
  fs.writeFileSync(
    path.join(profile, "service.json"),
    JSON.stringify({ type: "rtmp_custom", settings: { server: `rtmp://127.0.0.1:${rtmpPort}/live`, key: KEY, use_auth: false, bwtest: false } }),
  );
  return home;
}

test("OBS Studio streams to the origin with the README's settings", async () => {
  const origin = await startOrigin({ keys: [{ key: KEY, stream: "main" }] });
  const obs = spawn("xvfb-run", ["-a", "-s", "-screen 0 1280x800x24", "obs", "--startstreaming", "--disable-shutdown-check", "--multi", "--disable-updater"], {
    env: { ...process.env, HOME: obsHome(origin.rtmpPort), LIBGL_ALWAYS_SOFTWARE: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let log = "";
  for (const s of [obs.stdout, obs.stderr]) s.on("data", (c: Buffer) => (log = (log + c.toString()).slice(-20_000)));
  try {
    const info = await waitLive(origin.http, "main", 90_000).catch((err: Error) => {
      throw new Error(`${err.message}\nOBS said:\n${log}`);
    });
    const session = info.session!.id;
    assert.deepEqual(
      info.session!.renditions.map((r) => `${r.width}x${r.height}`),
      ["426x240", "320x180"],
    );
    await waitForSegment(origin.http, "main", session, "240p", 2, 30_000);
    const { bytes } = await fetchSegment(origin.http, "main", session, "240p", 2);
    const streams = ffprobeStreams(tempFile("obs.ts", bytes));
    assert.equal(streams.find((s) => s.codec_type === "video")?.codec_name, "h264");
    assert.equal(streams.find((s) => s.codec_type === "audio")?.codec_name, "aac");
    assert.match(log, /Connection to rtmp:\/\/127\.0\.0\.1:\d+\/live successful/);
    assert.ok(!origin.lines.some((l) => l.includes(KEY)));
  } finally {
    // xvfb-run, Xvfb and OBS share the process group started above.
    try {
      process.kill(-obs.pid!, "SIGTERM");
    } catch {
      /* already gone */
    }
    await waitFor(() => obs.exitCode !== null || obs.signalCode !== null, 15_000).catch(() => process.kill(-obs.pid!, "SIGKILL"));
    await origin.stop();
  }
});
