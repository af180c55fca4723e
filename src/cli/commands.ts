// The command words, apart from the commands: the entry tells a command from server flags without loading the CLI.

export const CLI_COMMANDS = [
  "check",
  "precheck",
  "explain",
  "doctor",
  "calibrate",
  "match",
  "verify",
  "config",
] as const;
export type CliCommand = (typeof CLI_COMMANDS)[number];

export function isCliCommand(word: string | undefined): word is CliCommand {
  return (CLI_COMMANDS as readonly (string | undefined)[]).includes(word);
}
