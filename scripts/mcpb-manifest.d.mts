export declare const BUNDLE_FILE: string;
/** The platforms manifest.json declares (compatibility.platforms). */
export declare const PLATFORMS: string[];

export interface BundleManifest {
  name: string;
  version: string;
  tools: { name: string; description: string }[];
  compatibility: { platforms: string[]; runtimes: { node: string } };
  server: { mcp_config: { args: string[]; env: Record<string, string> } };
  user_config: Record<string, { type: string; sensitive?: boolean; multiple?: boolean }>;
}

/** manifest.json for the bundle, from package.json and the live tool definitions in dist/. */
export declare function buildManifest(pkg?: unknown): Promise<BundleManifest>;

/** server.json's mcpb package entry for a bundle of this version with these bytes. */
export declare function mcpbPackageEntry(
  version: string,
  bundleBytes: Uint8Array,
): {
  registryType: "mcpb";
  identifier: string;
  version: string;
  fileSha256: string;
  transport: { type: "stdio" };
};
