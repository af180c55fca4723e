import { formatFailure } from "../core/errors.js";
import { isCliCommand } from "./commands.js";
import { type CliIO, EXIT } from "./io.js";

/** Server flags that take a value: the word after one is its value, never a command. */
const VALUED_FLAGS = new Set([
  "--allow-dir",
  "--allow-url-host",
  "--host",
  "--port",
  "--allowed-host",
  "--allowed-origin",
]);

/** Server flags that take no value; with VALUED_FLAGS, the options a word before the command may be. */
const BOOLEAN_FLAGS = new Set([
  "--sandbox",
  "--allow-hardlinks",
  "--http",
  "--help",
  "-h",
  "--version",
  "-v",
]);

/**
 * Finds the command wherever global options put it (`--sandbox check x.jpg` works): the first word that is not an
 * option or an option's value. Options before it are handed to the command after its own arguments. A word after
 * an unknown option may be that option's value, so the server's own flag parser reports the option instead.
 */
export function splitCommand(argv: readonly string[]): { command: string | undefined; rest: string[] } {
  let afterUnknownOption = false;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? "";
    if (word === "--") break;
    if (word.startsWith("-")) {
      if (VALUED_FLAGS.has(word)) i++;
      afterUnknownOption = !VALUED_FLAGS.has(word) && !BOOLEAN_FLAGS.has(word.split("=")[0] ?? word);
      continue;
    }
    if (afterUnknownOption && !isCliCommand(word)) break;
    return { command: word, rest: [...argv.slice(i + 1), ...argv.slice(0, i)] };
  }
  return { command: undefined, rest: [...argv] };
}

/** Runs the command splitCommand found; an unknown word is a usage error naming the real commands. */
export async function runCommandLine(command: string, rest: readonly string[], io: CliIO): Promise<number> {
  if (!isCliCommand(command)) {
    const { unknownCommand } = await import("./main.js");
    io.err(`${formatFailure(unknownCommand(command))}\n`);
    return EXIT.usage;
  }
  // Loaded only for a command: the server's start path carries no CLI code.
  const { runCli } = await import("./main.js");
  return runCli(command, rest, io);
}
