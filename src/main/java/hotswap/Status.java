package hotswap;

import hotswap.wire.Channel;
import hotswap.wire.Failures;
import hotswap.wire.Frames;
import hotswap.wire.Protocol;
import hotswap.wire.StatusReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The figures {@code hotswap status} and the MXBeans show, gathered fresh on each call. Nothing
 * here scans or checks a database: sizes come from a stat, SQLite's figures from three PRAGMAs
 * that read the header and the WAL index. The live file is never opened with plain Java I/O (its
 * close would drop SQLite's locks, DESIGN.md §3); SQLite's figures come through a read-only
 * connection without the app's properties (which may set pragmas that write), opened inside a
 * pass of the gate and closed before it ends, so a swap (which waits for every pass before it
 * closes anything) neither closes it mid-read nor counts it as a foreign connection; while a swap
 * holds the gate they are left out rather than waited for, and another process's lock is waited
 * for {@link #BUSY_MILLIS} at a time, not the app's busy timeout.
 */
final class Status {
    private final Hotswap hotswap;

    Status(Hotswap hotswap) {
        this.hotswap = hotswap;
    }

    /** What SQLite says about a database; {@code problem} says why the rest is missing, or is empty. */
    record SqliteFigures(int pageSize, long pageCount, String journalMode, String problem) {
    }

    /** Answers a {@code status} request: the server, then each database, on the control channel. */
    void send(Frames frames) throws IOException {
        // The gate's figures first: reading SQLite's passes the gate, and must not count itself.
        StatusReport.Server server = server();
        frames.writeStrings(Channel.CONTROL, server.encode());
        for (ManagedDatabase db : hotswap.databases()) {
            frames.writeStrings(Channel.CONTROL, database(db).encode());
        }
    }

    StatusReport.Server server() {
        long started = hotswap.startedMillis();
        return new StatusReport.Server(Protocol.RELEASE, started, started == 0 ? 0 : System.currentTimeMillis() - started,
                hotswap.socket().toAbsolutePath().toString(), hotswap.sessionsInUse(), hotswap.maxSessions(),
                hotswap.gate().inFlight(), hotswap.gate().waiting(), hotswap.databases().size());
    }

    StatusReport.Database database(ManagedDatabase db) {
        SqliteFigures sqlite = sqliteFigures(db);
        Activity a = db.activity;
        return new StatusReport.Database(db.name(), db.path().toString(), sizeOf(db.path()), sqlite.pageSize(),
                sqlite.pageCount(), sqlite.journalMode(), sizeOf(db.wal()), a.swaps(), a.lastSwap(), a.pulls(), a.lastPull(),
                sqlite.problem());
    }

    /** The file's size from a stat; 0 when there is no file. */
    static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    /** How long status waits for another connection's lock on a database before it says so. */
    private static final long BUSY_MILLIS = 200;

    /**
     * Page size, page count and journal mode. A database that does not exist yet is not opened:
     * a connection would create it, empty.
     */
    SqliteFigures sqliteFigures(ManagedDatabase db) {
        if (!Files.exists(db.path())) {
            return new SqliteFigures(0, 0, "", "the file does not exist yet");
        }
        SwapGate.Pass pass = hotswap.gate().tryEnter();
        if (pass == null) {
            return new SqliteFigures(0, 0, "", "a swap is in progress");
        }
        // Read-only and without the app's properties: those may set pragmas that write (journal_mode=WAL turns
        // a rollback-journal file, or an empty one, into a WAL database). Another process's lock must not hold
        // a status for the app's busy timeout (a minute, say).
        try (pass; Connection c = Sqlite.openReadOnly(db.path(), BUSY_MILLIS)) {
            return new SqliteFigures(Integer.parseInt(Sqlite.column(c, "PRAGMA page_size").get(0)),
                    Long.parseLong(Sqlite.column(c, "PRAGMA page_count").get(0)), Sqlite.journalMode(c), "");
        } catch (SQLException | RuntimeException e) {
            return new SqliteFigures(0, 0, "", "SQLite could not read it: " + Failures.describe(e));
        }
    }
}
