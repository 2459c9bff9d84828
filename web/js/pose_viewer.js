// SCAIL-Pose 3D viewer: draws a pose-sequence payload (see nodes/_preview.py) with three.js.
// Framework-free: the ComfyUI glue lives in pose_preview.js; tests/web drives this directly.
//
// Payload: {version, fps, size_hw: [H, W], camera: {fx, fy, cx, cy}, bones: [[a, b], ...],
//           characters: [{id, label, colors: [[r, g, b] in 0..1 per bone]}],
//           frames: [[[characterIndex, [24*3 joints, camera mm, OpenCV axes]], ...], ...],
//           frame_indices: [source frame index per frame]}
import * as THREE from "../lib/three/three.module.min.js";

const MM = 0.001; // payload millimetres -> scene metres
const BONE_RADIUS_M = 0.0215; // the reference renderer's cylinder radius
const UP = new THREE.Vector3(0, 1, 0);

// OpenCV camera axes (x right, y down, z forward) -> three.js (x right, y up, z backward).
function toScene(joints, j, out) {
  return out.set(joints[3 * j] * MM, -joints[3 * j + 1] * MM, -joints[3 * j + 2] * MM);
}

class OrbitRig {
  // Minimal orbit/zoom/pan around a target point (left drag, wheel, right or shift drag).
  constructor(camera, element, onChange) {
    this.camera = camera;
    this.element = element;
    this.onChange = onChange;
    this.target = new THREE.Vector3();
    this.spherical = new THREE.Spherical(3, Math.PI / 2, Math.PI);
    this.drag = null;
    this._down = (e) => this.pointerDown(e);
    this._move = (e) => this.pointerMove(e);
    this._up = () => { this.drag = null; };
    this._wheel = (e) => this.wheel(e);
    this._menu = (e) => e.preventDefault();
    element.addEventListener("pointerdown", this._down);
    window.addEventListener("pointermove", this._move);
    window.addEventListener("pointerup", this._up);
    element.addEventListener("wheel", this._wheel, { passive: false });
    element.addEventListener("contextmenu", this._menu);
  }

  lookFrom(position, target) {
    this.target.copy(target);
    this.spherical.setFromVector3(position.clone().sub(target));
    this.apply();
  }

  apply() {
    const s = this.spherical;
    s.phi = Math.min(Math.max(s.phi, 0.05), Math.PI - 0.05);
    s.radius = Math.min(Math.max(s.radius, 0.2), 100);
    this.camera.position.setFromSpherical(s).add(this.target);
    this.camera.lookAt(this.target);
    this.onChange();
  }

  pointerDown(e) {
    e.stopPropagation();
    const pan = e.button === 2 || e.shiftKey;
    this.drag = { x: e.clientX, y: e.clientY, pan };
  }

  pointerMove(e) {
    if (!this.drag) return;
    const dx = e.clientX - this.drag.x;
    const dy = e.clientY - this.drag.y;
    this.drag.x = e.clientX;
    this.drag.y = e.clientY;
    if (this.drag.pan) {
      const k = this.spherical.radius * 0.002;
      const right = new THREE.Vector3().setFromMatrixColumn(this.camera.matrix, 0);
      const up = new THREE.Vector3().setFromMatrixColumn(this.camera.matrix, 1);
      this.target.addScaledVector(right, -dx * k).addScaledVector(up, dy * k);
    } else {
      this.spherical.theta -= dx * 0.008;
      this.spherical.phi -= dy * 0.008;
    }
    this.apply();
  }

  wheel(e) {
    e.preventDefault();
    e.stopPropagation();
    this.spherical.radius *= Math.exp(Math.sign(e.deltaY) * 0.1);
    this.apply();
  }

  dispose() {
    this.element.removeEventListener("pointerdown", this._down);
    window.removeEventListener("pointermove", this._move);
    window.removeEventListener("pointerup", this._up);
    this.element.removeEventListener("wheel", this._wheel);
    this.element.removeEventListener("contextmenu", this._menu);
  }
}

function el(tag, props = {}, style = {}) {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.style, style);
  return node;
}

export class PoseViewer {
  constructor(container, { width = 384, height = 288 } = {}) {
    this.container = container;
    this.payload = null;
    this.frame = 0;
    this.playing = false;
    this.visible = [];
    this.characterMeshes = [];
    this.root = el("div", { className: "scail-pose-viewer" },
      { display: "flex", flexDirection: "column", gap: "4px", width: "100%", height: "100%" });
    this.canvas = el("canvas", { width, height },
      { width: "100%", flex: "1 1 auto", minHeight: "120px", background: "#111", borderRadius: "4px" });
    this.root.append(this.canvas, this.buildControls());
    container.append(this.root);

    this.renderer = new THREE.WebGLRenderer({
      canvas: this.canvas, antialias: false, preserveDrawingBuffer: true,
    });
    this.renderer.setPixelRatio(1);
    this.renderer.setSize(width, height, false);
    this.renderer.setClearColor(0x111111, 1);
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(50, width / height, 0.01, 200);
    this.rig = new OrbitRig(this.camera, this.canvas, () => this.draw());
    this.boneGeometry = new THREE.CylinderGeometry(BONE_RADIUS_M, BONE_RADIUS_M, 1, 12, 1);
    this.jointGeometry = new THREE.SphereGeometry(BONE_RADIUS_M * 1.2, 10, 8);
    this.frustum = null;
    this.grid = new THREE.GridHelper(6, 12, 0x444444, 0x2a2a2a);
    this.scene.add(this.grid);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.canvas);
    this.draw();
  }

  buildControls() {
    const bar = el("div", {}, { display: "flex", alignItems: "center", gap: "6px", fontSize: "11px",
      color: "#ccc", flexWrap: "wrap" });
    this.playButton = el("button", { textContent: "▶", title: "Play / pause" }, { width: "28px" });
    this.playButton.addEventListener("click", () => (this.playing ? this.pause() : this.play()));
    this.slider = el("input", { type: "range", min: 0, max: 0, step: 1, value: 0,
      title: "Frame" }, { flex: "1 1 120px" });
    this.slider.addEventListener("input", () => this.setFrame(Number(this.slider.value)));
    this.label = el("span", { textContent: "no poses yet" }, { minWidth: "70px" });
    this.toggles = el("span", {}, { display: "flex", gap: "6px" });
    bar.append(this.playButton, this.slider, this.label, this.toggles);
    return bar;
  }

  setSequence(payload) {
    this.pause();
    this.clearCharacters();
    this.payload = payload;
    const nFrames = payload.frames.length;
    this.slider.max = Math.max(nFrames - 1, 0);
    this.visible = payload.characters.map(() => true);
    payload.characters.forEach((c, ci) => this.characterMeshes.push(this.buildCharacter(c, ci)));
    this.buildToggles();
    this.buildFrustum();
    this.resetView();
    this.setFrame(0);
  }

  buildCharacter(character) {
    const group = new THREE.Group();
    const bones = this.payload.bones.map((_, bi) => {
      const rgb = character.colors[bi % character.colors.length];
      const color = new THREE.Color().setRGB(rgb[0], rgb[1], rgb[2], THREE.SRGBColorSpace);
      const mat = new THREE.MeshBasicMaterial({ color });
      const mesh = new THREE.Mesh(this.boneGeometry, mat);
      group.add(mesh);
      return mesh;
    });
    const jointMat = new THREE.MeshBasicMaterial({ color: 0xeeeeee });
    const joints = Array.from({ length: 24 }, () => {
      const m = new THREE.Mesh(this.jointGeometry, jointMat);
      group.add(m);
      return m;
    });
    this.scene.add(group);
    return { group, bones, joints };
  }

  buildToggles() {
    this.toggles.replaceChildren();
    this.payload.characters.forEach((c, ci) => {
      const box = el("input", { type: "checkbox", checked: true, title: `Show ${c.label}` });
      box.dataset.character = String(ci);
      box.addEventListener("change", () => this.setCharacterVisible(ci, box.checked));
      const rgb = c.colors[0].map((v) => Math.round(v * 255)).join(",");
      const name = el("label", { textContent: c.label }, { color: `rgb(${rgb})` });
      name.prepend(box);
      this.toggles.append(name);
    });
  }

  buildFrustum() {
    if (this.frustum) this.scene.remove(this.frustum);
    const { fx, fy, cx, cy } = this.payload.camera;
    const [h, w] = this.payload.size_hw;
    const depth = this.sceneDepthMm() * 1.05;
    const corners = [[0, 0], [w, 0], [w, h], [0, h]].map(([u, v]) =>
      toScene([((u - cx) / fx) * depth, ((v - cy) / fy) * depth, depth], 0, new THREE.Vector3()));
    const o = new THREE.Vector3();
    const pts = [];
    corners.forEach((c, i) => pts.push(o, c, c, corners[(i + 1) % 4]));
    const geom = new THREE.BufferGeometry().setFromPoints(pts);
    this.frustum = new THREE.LineSegments(geom, new THREE.LineBasicMaterial({ color: 0x8899aa }));
    this.frustum.name = "render-camera";
    this.scene.add(this.frustum);
  }

  sceneDepthMm() {
    // Median pelvis depth over the clip: where the frustum's image plane is drawn.
    const z = [];
    for (const frame of this.payload.frames) for (const [, j] of frame) if (j[2] > 0) z.push(j[2]);
    z.sort((a, b) => a - b);
    return z.length ? z[Math.floor(z.length / 2)] : 3000;
  }

  resetView() {
    const center = new THREE.Vector3(0, 0, -this.sceneDepthMm() * MM);
    const first = this.payload.frames.find((f) => f.length);
    if (first) toScene(first[0][1], 0, center);
    this.grid.position.set(center.x, this.lowestPointM(), center.z);
    // Start just behind the render camera, so the first view matches the render.
    this.rig.lookFrom(new THREE.Vector3(0, 0, 0.6), center);
  }

  lowestPointM() {
    let low = Infinity;
    for (const frame of this.payload.frames)
      for (const [, j] of frame) for (let k = 1; k < j.length; k += 3) low = Math.min(low, -j[k] * MM);
    return Number.isFinite(low) ? low : -1;
  }

  setFrame(index) {
    if (!this.payload) return;
    const n = this.payload.frames.length;
    this.frame = Math.min(Math.max(Math.round(index), 0), Math.max(n - 1, 0));
    this.slider.value = String(this.frame);
    const src = this.payload.frame_indices ? this.payload.frame_indices[this.frame] : this.frame;
    this.label.textContent = `frame ${src} (${this.frame + 1}/${n})`;
    this.characterMeshes.forEach((m) => { m.group.visible = false; });
    const a = new THREE.Vector3();
    const b = new THREE.Vector3();
    for (const [ci, joints] of this.payload.frames[this.frame] || []) {
      const meshes = this.characterMeshes[ci];
      if (!meshes) continue;
      meshes.group.visible = this.visible[ci];
      this.payload.bones.forEach(([ja, jb], bi) => {
        toScene(joints, ja, a);
        toScene(joints, jb, b);
        const bone = meshes.bones[bi];
        const len = a.distanceTo(b);
        bone.visible = len > 1e-6;
        if (!bone.visible) return;
        bone.position.copy(a).add(b).multiplyScalar(0.5);
        bone.scale.set(1, len, 1);
        bone.quaternion.setFromUnitVectors(UP, b.clone().sub(a).normalize());
      });
      meshes.joints.forEach((m, j) => toScene(joints, j, m.position));
    }
    this.draw();
  }

  setCharacterVisible(index, visible) {
    this.visible[index] = visible;
    this.setFrame(this.frame);
  }

  play() {
    if (!this.payload || this.payload.frames.length < 2) return;
    this.playing = true;
    this.playButton.textContent = "❚❚";
    const step = 1000 / (this.payload.fps || 16);
    let last = performance.now();
    const tick = (now) => {
      if (!this.playing) return;
      if (now - last >= step) {
        last = now;
        this.setFrame((this.frame + 1) % this.payload.frames.length);
      }
      this.raf = requestAnimationFrame(tick);
    };
    this.raf = requestAnimationFrame(tick);
  }

  pause() {
    this.playing = false;
    if (this.playButton) this.playButton.textContent = "▶";
    if (this.raf) cancelAnimationFrame(this.raf);
  }

  resize() {
    const w = Math.max(Math.floor(this.canvas.clientWidth), 16);
    const h = Math.max(Math.floor(this.canvas.clientHeight), 16);
    if (w === this.canvas.width && h === this.canvas.height) return;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.draw();
  }

  draw() {
    this.renderer.render(this.scene, this.camera);
  }

  clearCharacters() {
    for (const m of this.characterMeshes) {
      this.scene.remove(m.group);
      m.bones.forEach((b) => b.material.dispose());
      if (m.joints.length) m.joints[0].material.dispose();
    }
    this.characterMeshes = [];
  }

  dispose() {
    this.pause();
    this.clearCharacters();
    this.resizeObserver.disconnect();
    this.rig.dispose();
    this.boneGeometry.dispose();
    this.jointGeometry.dispose();
    this.renderer.dispose();
    this.root.remove();
  }
}

export function createPoseViewer(container, options) {
  return new PoseViewer(container, options);
}
