// A small MCP Apps host for the browser test: renders the verdict view in a sandboxed iframe with the extension's
// own host-side bridge (AppBridge), under the spec's default CSP, and forwards the view's tool calls to the real
// server through the test (window.forwardToolCall, exposed by playwright). Bundled by the test with esbuild.
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";
import type { HostGlobals } from "../host-contract.js";

/** The MCP Apps default CSP: nothing from the network, inline script and style, data: images. */
const DEFAULT_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src data:; connect-src 'none'";

const host = window as unknown as Window & HostGlobals;

host.renderView = async ({ html, toolName, args, result, theme }) => {
  document.documentElement.style.background = theme === "dark" ? "#111" : "#eee";
  const iframe = document.createElement("iframe");
  iframe.id = "view";
  iframe.setAttribute("sandbox", "allow-scripts");
  iframe.title = "Verdict view";
  iframe.style.cssText = "width:640px;height:200px;border:0;display:block";
  document.body.replaceChildren(iframe);
  const bridge = new AppBridge(
    null,
    { name: "didit-test-host", version: "1.0.0" },
    { serverTools: {}, logging: {} },
    {
      hostContext: {
        theme,
        displayMode: "inline",
        toolInfo: { tool: { name: toolName, inputSchema: { type: "object" } } },
      },
    },
  );
  bridge.oncalltool = (params) => host.forwardToolCall(params);
  bridge.onsizechange = ({ height }) => {
    if (height !== undefined) iframe.style.height = `${height}px`;
  };
  const initialized = new Promise<void>((resolve) => {
    bridge.oninitialized = () => resolve();
  });
  const frame = iframe.contentWindow as Window;
  await bridge.connect(new PostMessageTransport(frame, frame));
  iframe.srcdoc = html.replace(
    "<head>",
    `<head><meta http-equiv="Content-Security-Policy" content="${DEFAULT_CSP}">`,
  );
  await initialized;
  await bridge.sendToolInput({ arguments: args });
  await bridge.sendToolResult(result);
};
