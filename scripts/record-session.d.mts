/** The markers around the README's recorded session. */
export declare const SESSION_START: string;
export declare const SESSION_END: string;
/** The recorded session's console block, from a real call to the built server in sandbox mode. */
export declare function renderSession(): Promise<string>;
/** The text between the markers (trimmed), or undefined when they are missing. */
export declare function extractSession(markdown: string): string | undefined;
