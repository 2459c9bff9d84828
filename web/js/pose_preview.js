// ComfyUI glue for the 3D pose preview: puts a PoseViewer inside "Preview Poses 3D" nodes and
// feeds it the sequence the node sends through its UI output ("scail_pose_preview").
import { PoseViewer } from "./pose_viewer.js";

const NODE_IDS = new Set(["ScailPosePreview3D"]);
const UI_KEY = "scail_pose_preview";

function comfyApp() {
  return window.comfyAPI?.app?.app;
}

function attachViewer(node) {
  const host = document.createElement("div");
  host.style.width = "100%";
  host.style.height = "100%";
  const viewer = new PoseViewer(host);
  node.addDOMWidget("pose_preview_3d", "scail_pose_preview", host, {
    serialize: false,
    hideOnZoom: false,
    getMinHeight: () => 260,
  });
  node.scailPoseViewer = viewer;
  const onRemoved = node.onRemoved;
  node.onRemoved = function () {
    viewer.dispose();
    node.scailPoseViewer = null;
    return onRemoved?.apply(this, arguments);
  };
  if (node.size[1] < 380) node.setSize([Math.max(node.size[0], 400), 380]);
}

const app = comfyApp();
if (app) {
  app.registerExtension({
    name: "ScailPose.PosePreview",
    async beforeRegisterNodeDef(nodeType, nodeData) {
      if (!NODE_IDS.has(nodeData?.name)) return;
      const onNodeCreated = nodeType.prototype.onNodeCreated;
      nodeType.prototype.onNodeCreated = function () {
        const r = onNodeCreated?.apply(this, arguments);
        attachViewer(this);
        return r;
      };
      const onExecuted = nodeType.prototype.onExecuted;
      nodeType.prototype.onExecuted = function (message) {
        const r = onExecuted?.apply(this, arguments);
        const payload = message?.[UI_KEY]?.[0];
        if (payload && this.scailPoseViewer) this.scailPoseViewer.setSequence(payload);
        return r;
      };
    },
  });
}
