// Drives web/js/pose_viewer.js in headless chromium; prints one JSON line of observations.
// Usage: node drive_viewer.mjs <chromium executable> <page url>
import { chromium } from "playwright-core";

const [executablePath, url] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    "--ignore-gpu-blocklist"],
});
const errors = [];
try {
  const page = await browser.newPage();
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => window.viewerReady === true, null, { timeout: 20000 });

  // Pixel statistics of the WebGL canvas, read back through a 2D canvas.
  const snapshot = () => page.evaluate(() => {
    const src = window.viewer.canvas;
    const c = document.createElement("canvas");
    c.width = src.width;
    c.height = src.height;
    const ctx = c.getContext("2d");
    ctx.drawImage(src, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const colors = window.viewer.payload.characters.map((ch) => ch.colors.map(
      (rgb) => rgb.map((v) => Math.round(v * 255))));
    const hits = colors.map((pal) => pal.map(() => 0));
    let nonBackground = 0;
    let hash = 0;
    for (let i = 0; i < d.length; i += 4) {
      const r = d[i], g = d[i + 1], b = d[i + 2];
      hash = (hash * 31 + r * 7 + g * 3 + b) >>> 0;
      if (Math.abs(r - 17) + Math.abs(g - 17) + Math.abs(b - 17) > 30) nonBackground++;
      colors.forEach((pal, ci) => pal.forEach((rgb, bi) => {
        if (Math.abs(r - rgb[0]) <= 3 && Math.abs(g - rgb[1]) <= 3 && Math.abs(b - rgb[2]) <= 3)
          hits[ci][bi]++;
      }));
    }
    return { width: c.width, height: c.height, nonBackground, hash, hits,
      frame: window.viewer.frame, label: window.viewer.label.textContent };
  });

  const first = await snapshot();
  // Scrub the timeline the way a user does: change the range input and fire "input".
  await page.evaluate(() => {
    const s = window.viewer.slider;
    s.value = s.max;
    s.dispatchEvent(new Event("input"));
  });
  const last = await snapshot();
  // Hide character 0 with its checkbox.
  await page.evaluate(() => {
    const box = window.viewer.toggles.querySelector('input[data-character="0"]');
    box.checked = false;
    box.dispatchEvent(new Event("change"));
  });
  const hidden = await snapshot();
  // Orbit: drag on the canvas.
  const box = await page.locator("canvas").first().boundingBox();
  await page.mouse.move(box.x + 100, box.y + 100);
  await page.mouse.down();
  await page.mouse.move(box.x + 160, box.y + 120, { steps: 4 });
  await page.mouse.up();
  const orbited = await snapshot();
  const frustum = await page.evaluate(() => {
    const f = window.viewer.scene.getObjectByName("render-camera");
    return f ? f.geometry.attributes.position.count : 0;
  });
  console.log(JSON.stringify({ first, last, hidden, orbited, frustum, errors }));
} finally {
  await browser.close();
}
