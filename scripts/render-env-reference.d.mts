export interface ServerEnvVariable {
  name: string;
  description: string;
  format: string;
  isRequired: boolean;
  default?: string;
  isSecret?: boolean;
}
/** server.json's npm environmentVariables, rendered from the env schema's descriptions in dist/. */
export function renderServerEnv(): Promise<ServerEnvVariable[]>;
export const ENV_TABLE_START: string;
export const ENV_TABLE_END: string;
/** The README with its Configuration table's variable rows rendered from the env schema's descriptions. */
export function renderReadme(readme: string): Promise<string>;
