export interface PostgresHandle {
    /** Connection URL of the throwaway database. */
    url: string;
    /** Stops the server (if ours) and removes everything it created. Safe to call twice. */
    stop(): Promise<void>;
    /** Stops the server, keeping its data (simulates a database outage). */
    stopServer(): Promise<void>;
    /** Starts the same server again, on the same port, and waits until it accepts connections. */
    startServer(): Promise<void>;
}
export type PostgresStart = PostgresHandle | {
    skip: string;
};
export declare function startPostgres(): Promise<PostgresStart>;
