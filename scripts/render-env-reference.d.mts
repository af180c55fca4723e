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
