// One-tag embedding: <script src="https://ORIGIN/embed.js" data-stream="main"></script>
// puts a responsive 16:9 iframe of ORIGIN/embed/main where the tag is. The iframe keeps the
// host page's CSS out and makes the player's API calls and beacons same-origin.
(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  if (!script) return;
  const stream = script.dataset.stream ?? "";
  const origin = new URL(script.src).origin;
  const box = document.createElement("div");
  box.style.cssText = "position:relative;width:100%;aspect-ratio:16/9;background:#000";
  const frame = document.createElement("iframe");
  frame.src = `${origin}/embed/${encodeURIComponent(stream)}`;
  frame.title = script.dataset.title ?? `Live stream ${stream}`;
  frame.allow = "autoplay; fullscreen";
  frame.allowFullscreen = true;
  frame.style.cssText = "position:absolute;inset:0;width:100%;height:100%;border:0";
  box.append(frame);
  script.after(box);
})();
