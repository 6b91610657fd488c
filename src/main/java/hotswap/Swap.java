package hotswap;

import hotswap.wire.Failures;
import hotswap.wire.FileModes;
import hotswap.wire.OpenHandles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Replaces a live database with a checked file: check that {@code --keep-previous} can be done,
 * then inside the gate wait for in-flight requests, close the app's connections, checkpoint the
 * WAL, rename the new file over the old one, remove the old database's stale journal files, sync
 * the directory, reopen, let requests go. Only the rename changes the live database, so any
 * failure before it leaves the old one in place.
 *
 * <p>Nothing inside the gate waits on another process longer than the swap's timeout: a checkpoint
 * that another process's read transaction blocks refuses the swap instead of deleting a WAL that
 * still holds committed transactions.
 */
final class Swap {
    private static final Logger LOG = Logger.getLogger(Swap.class.getName());

    private final Hotswap hotswap;
    private final ManagedDatabase db;
    private final Path replacement;
    private final long timeoutMillis;
    private final boolean force;
    private final boolean keepPrevious;
    /**
     * Why the swap must not happen after all, or null: the command was given up on (the app is
     * closing), or its client has gone. Asked before the gate closes and again just before the rename.
     */
    private final Supplier<String> abandoned;
    /** Names of replaced files to remove once requests run again: removing a large file's last name frees its blocks, which takes a while. */
    private final List<Path> toFree = new ArrayList<>();
    /**
     * What happened inside the gate, written once it is open: an app's log handler formats and
     * writes each line on the calling thread, and may block (a pipe nobody reads) while requests
     * wait for the gate. Each line keeps the time it was made.
     */
    private final List<LogRecord> gateLog = new ArrayList<>();
    /** The app's connections this swap has closed so far: a refusal after that must say so. */
    private SwappableDataSource.Closed closedOutside = SwappableDataSource.Closed.NONE;
    /** The swap's outcome once the new file is in place, even when a later step then failed; null before. */
    private Result landed;
    private static final String NOTHING_CHANGED = "nothing changed";

    /**
     * What the swap did.
     *
     * @param pauseMillis how long requests were held
     * @param previous    where the replaced database was kept, or null
     * @param pause       the pause as a flight recorder event, ended: its committer adds what the swap did not know
     */
    record Result(double pauseMillis, Path previous, Events.SwapEvent pause) {
    }

    Swap(Hotswap hotswap, ManagedDatabase db, Path replacement, long timeoutMillis, boolean force, boolean keepPrevious,
         Supplier<String> abandoned) {
        this.hotswap = hotswap;
        this.db = db;
        this.replacement = replacement;
        this.timeoutMillis = timeoutMillis;
        this.force = force;
        this.keepPrevious = keepPrevious;
        this.abandoned = abandoned;
    }

    /**
     * Removes the last name of each file this swap replaced, which frees its blocks: call it after
     * the gate is open. A process still reading such a file keeps reading it whole; its blocks are
     * freed when it closes it.
     */
    void freeReplaced() {
        toFree.forEach(TempFiles::deleteQuietly);
        toFree.clear();
    }

    /** Where {@code --keep-previous} keeps the replaced database. */
    static Path previousOf(Path live) {
        return live.resolveSibling(live.getFileName() + ".previous");
    }

    /**
     * Swaps, as the class comment says; {@link #freeReplaced()} then frees what it replaced. The
     * caller holds the database's {@code fileLock} for writing: pulls of it have finished, and the
     * push has checked its file against the live one under the same hold.
     */
    Result run() throws CommandFailure {
        if (!db.fileLock.isWriteLockedByCurrentThread()) {
            throw new IllegalStateException("a swap of " + db.path() + " runs holding its fileLock for writing");
        }
        if (keepPrevious) {
            checkKeepPossible(db.path());
        }
        try {
            hotswap.swapLock.lockInterruptibly(); // swaps of any database go one at a time
            try {
                checkpoint("PASSIVE"); // the slow part of the checkpoint, while requests still run
                if (!force) {
                    refuseOtherProcesses(db.path(), OpenHandles.NO_DEADLINE); // early too, where a refusal holds no request
                }
                refuseIfAbandoned(); // the wait for the locks outlasted close()'s wait for this swap, or the client's
                return swapInsideGate();
            } finally {
                hotswap.swapLock.unlock();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommandFailure("interrupted while waiting to swap; nothing changed");
        }
    }

    private Result swapInsideGate() throws CommandFailure, InterruptedException {
        Path live = db.path();
        SwapGate gate = hotswap.gate();
        Events.SwapEvent pauseEvent = new Events.SwapEvent();
        pauseEvent.begin();
        long waitStart = System.nanoTime();
        long deadline = waitStart + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        try {
            gate.close(timeoutMillis);
        } catch (SwapGate.StillInFlight e) {
            throw new CommandFailure(e.getMessage() + "; nothing changed. Retry when the app is less busy, "
                    + "or give the requests longer with --timeout MS");
        }
        long closedAt = System.nanoTime();
        noteInGate(Level.INFO, () -> "lock acquired: waited " + Push.millisSince(waitStart) + " ms for in-flight requests");
        List<SwapListener> prepared = new ArrayList<>();
        boolean replaced = false;
        Path oldInode = null;
        CommandFailure failure = null;
        SwappableDataSource dataSource = db.swappableDataSource();
        try {
            // From here a pool refilling in the background waits, and then opens the new file.
            suspend(dataSource, deadline);
            long listenersStart = System.nanoTime();
            for (SwapListener listener : db.listeners()) {
                prepared.add(listener);
                listener.beforeSwap(db);
            }
            refuseIfListenersOutlasted(closedAt - waitStart, listenersStart, deadline, !prepared.isEmpty());
            // The DataSource's own connections close before the checkpoint: one of them in a transaction (a
            // background job outside the gate) would otherwise block it, and the swap would end refused.
            awaitListenersClosed(deadline);
            int closed = closeAll(dataSource, deadline);
            noteInGate(Level.INFO, () -> "disconnected: closed " + closed + " connection(s) to " + live);
            checkpointWithin(deadline);
            refuseForeignConnections(live, deadline);
            refuseOtherProcesses(live, deadline);
            refuseIfAbandoned(); // the wait for in-flight requests may have outlasted the client's patience
            oldInode = holdOldInode(live);
            Files.move(replacement, live, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            replaced = true;
            noteInGate(Level.INFO, () -> "renamed " + replacement.getFileName() + " to " + live);
            // The old file's journals go before anything can open the new one, whatever the fsync does; the one
            // fsync of the directory then makes the rename and the removals durable together.
            removeStaleSidecars(live);
            FileModes.syncDirectory(live.getParent());
        } catch (CommandFailure e) {
            failure = e;
        } catch (Exception | Error e) { // a listener is the app's code: whatever it throws, the gate opens below
            failure = replaced
                    ? new CommandFailure("the database was replaced, but finishing the swap failed: " + Failures.describe(e), e)
                    : new CommandFailure("swap abandoned: " + Failures.describe(e) + "; nothing changed", e);
        } finally {
            dataSource.resume();
        }
        if (failure != null && !replaced) {
            failure = ownUpToClosed(failure);
        }
        failure = reopen(replaced, prepared, failure);
        SwapGate.Released released = gate.open();
        pauseEvent.end();
        gateLog.forEach(LOG::log);
        gateLog.clear();
        long openedAt = released.atNanos();
        int waited = released.waited();
        pauseEvent.waited = waited;
        // New requests wait from the moment the gate closes, so the pause they see includes the drain.
        double pause = (openedAt - waitStart) / 1e6;
        double swapping = (openedAt - closedAt) / 1e6;
        LOG.info(() -> String.format("lock released: requests paused %.1f ms (%.1f ms waiting for in-flight requests, "
                + "%.1f ms swapping), %d waited", pause, pause - swapping, swapping, waited));
        released.announce();
        Path previous = null;
        if (oldInode != null && replaced && keepPrevious) {
            try {
                previous = keep(oldInode, live);
            } catch (CommandFailure e) {
                // Where the old database went must reach the user, whatever else failed.
                failure = failure == null ? e : new CommandFailure(failure.getMessage() + "\n" + e.getMessage(), failure);
            }
        } else if (oldInode != null) {
            toFree.add(oldInode);
        }
        Result result = new Result(pause, previous, pauseEvent);
        if (replaced) {
            landed = result;
        }
        if (failure != null) {
            throw failure;
        }
        return result;
    }

    /**
     * What the swap did once it put the new file in place, or null when it did not: a failure after
     * the rename (an afterSwap that threw, keeping the old file) still replaced the database, and
     * the swap counts as one.
     */
    Result landed() {
        return landed;
    }

    /**
     * Refuses {@code --keep-previous} before the gate closes when it could not be done: the kept
     * file's name must be free or hold a regular file, and the directory must take a hard link.
     */
    private static void checkKeepPossible(Path live) throws CommandFailure {
        Path previous = previousOf(live);
        if (Files.exists(previous, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(previous, LinkOption.NOFOLLOW_LINKS)) {
            throw new CommandFailure("cannot keep the previous database as " + previous + ": it exists and is "
                    + (Files.isDirectory(previous, LinkOption.NOFOLLOW_LINKS) ? "a directory" : "not a regular file")
                    + "; nothing changed. Move it away, or push without --keep-previous");
        }
        for (String suffix : TempFiles.SIDECARS) {
            Path sidecar = previous.resolveSibling(previous.getFileName() + suffix);
            if (suffix.equals("-shm") ? Files.exists(sidecar, LinkOption.NOFOLLOW_LINKS) : nonEmpty(sidecar)) {
                throw new CommandFailure("cannot keep the previous database as " + previous + ": " + sidecar + " is beside it "
                        + "(a sqlite3 shell has it open, or one crashed in it), and SQLite would read the kept database with it; "
                        + "nothing changed. Close that shell (or open and close " + previous + " once with sqlite3), then push again");
            }
        }
        if (!Files.exists(live)) {
            return;
        }
        Path probe = TempFiles.beside(live, "old");
        try {
            Files.createLink(probe, live);
        } catch (IOException | UnsupportedOperationException e) {
            throw new CommandFailure("cannot keep the previous database: " + live.getParent() + " refused a hard link ("
                    + Failures.describe(e) + "); nothing changed. Pull a backup first, then push without --keep-previous", e);
        } finally {
            TempFiles.deleteQuietly(probe);
        }
    }

    private static boolean nonEmpty(Path file) {
        try {
            return Files.size(file) > 0;
        } catch (IOException e) {
            return false; // none there
        }
    }

    private Path keep(Path oldInode, Path live) throws CommandFailure {
        Path previous = previousOf(live);
        Path older = null;
        try {
            if (Files.exists(previous, LinkOption.NOFOLLOW_LINKS)) {
                // Replacing the database kept last time would free its blocks inside the rename: hold a second
                // link, and remove it after the gate like any replaced file.
                older = TempFiles.beside(live, "old");
                Files.createLink(older, previous);
            }
            Files.move(oldInode, previous, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            toFree.add(oldInode); // still there when previous was another name of the same file: rename(2) then does nothing
            FileModes.syncDirectory(live.getParent());
            LOG.info(() -> "kept the replaced database as " + previous);
            return previous;
        } catch (IOException e) {
            Path kept = rescue(oldInode, live);
            throw new CommandFailure("the database was replaced, but keeping the old one as " + previous + " failed: "
                    + Failures.describe(e) + "; the old database is kept as " + kept + " instead. Move it where you want it", e);
        } finally {
            if (older != null) {
                toFree.add(older);
            }
        }
    }

    /**
     * Gives the replaced database a name of its own when it cannot be kept as asked: one that no
     * cleanup of hotswap's removes ({@code <db>.previous-<UTC time>}). Should even that rename fail,
     * it stays under its temp name, which the message then prints and the next start renames so.
     */
    private Path rescue(Path oldInode, Path live) {
        try {
            Path rescued = TempFiles.rescueKept(oldInode, live);
            LOG.warning(() -> "kept the replaced database as " + rescued);
            return rescued;
        } catch (IOException e) {
            LOG.log(Level.SEVERE, "could not give the replaced database a name of its own; it stays at " + oldInode, e);
            return oldInode;
        }
    }

    /**
     * A beforeSwap is the app's code, and nothing can stop it: one that returns after the deadline
     * has already held requests longer than the swap may, so the swap goes no further (every later
     * step would run out of time too, and blame itself).
     */
    private void refuseIfListenersOutlasted(long drainNanos, long start, long deadline, boolean ran) throws CommandFailure {
        long now = System.nanoTime();
        if (!ran || now - deadline < 0) {
            return;
        }
        throw new CommandFailure("the swap listeners' beforeSwap returned after the swap's timeout of " + timeoutMillis
                + " ms had run out (it took " + TimeUnit.NANOSECONDS.toMillis(now - start) + " ms, after "
                + TimeUnit.NANOSECONDS.toMillis(drainNanos) + " ms waiting for in-flight requests; new ones waited meanwhile); "
                + "nothing changed. Have beforeSwap return at once (a pool: suspend it and evict its connections, which "
                + "it closes on its own thread), or give the swap longer with --timeout MS");
    }

    /**
     * Holds the DataSource's connections back, waiting within the swap's timeout for those being
     * opened: an open reads the file, and waits while another process holds a lock on it.
     */
    private void suspend(SwappableDataSource dataSource, long deadline) throws CommandFailure, SQLException {
        try {
            dataSource.suspend(deadline);
        } catch (SwappableDataSource.StillOpening e) {
            throw new CommandFailure(e.connections + (e.connections == 1 ? " connection" : " connections") + " from dataSource() "
                    + (e.connections == 1 ? "was" : "were") + " being opened (" + e.getMessage() + ") when the swap's timeout of "
                    + timeoutMillis + " ms ran out: opening one reads " + db.path() + ", and waits while another connection or "
                    + "process holds a lock on it (a sqlite3 shell or a job in a transaction); nothing changed. End that "
                    + "transaction, then push again, or give the swap longer with --timeout MS");
        }
    }

    /**
     * With swap listeners, the app closes its own connections (a pool evicts them, often on a
     * thread of its own, after beforeSwap has returned): wait for those it took from the
     * DataSource, within the swap's timeout. Without listeners nothing else would close them, and
     * the DataSource closes them at once.
     */
    private void awaitListenersClosed(long deadline) throws CommandFailure, InterruptedException {
        SwappableDataSource dataSource = db.swappableDataSource();
        if (db.listeners().isEmpty() || dataSource.awaitAllClosed(deadline)) {
            return;
        }
        throw new CommandFailure(dataSource.openConnections() + " connection(s) from dataSource() were still open when the "
                + "swap's timeout of " + timeoutMillis + " ms ran out, after the swap listeners' beforeSwap ("
                + dataSource.describeOpen() + "); nothing changed. Have a SwapListener close them (a pool: suspend it and "
                + "evict its connections), or give them longer with --timeout MS");
    }

    /**
     * Closes the DataSource's connections within the swap's timeout. One whose statement outlasts
     * it (waiting for a lock that a connection hotswap does not manage holds) refuses the swap, even
     * with --force: it still has the old file open, and would take the new file's journals for its own.
     */
    private int closeAll(SwappableDataSource dataSource, long deadline) throws CommandFailure, InterruptedException {
        try {
            closedOutside = dataSource.closeAll(deadline);
            return closedOutside.connections();
        } catch (SwappableDataSource.StillRunning e) {
            // This message tells of the closed ones itself, beside those that close later.
            throw new CommandFailure(e.connections + " connection(s) from dataSource() (" + e.getMessage() + ") did not close "
                    + "within the swap's timeout of " + timeoutMillis + " ms: closing one waits for the statement running on it, "
                    + "and the swap's interrupt does not end a statement that waits for a lock another connection holds (one "
                    + "opened outside hotswap, another process); the database file is unchanged, but each of them closes once "
                    + "its statement ends, any transaction open on it rolled back, and its next use fails with SQLState 08003"
                    + (e.closed.connections() == 0 ? "" : "; and " + e.closed.describe()) + ". End the transaction that holds "
                    + "the lock, or give the swap longer with --timeout MS, then push again");
        } catch (SwappableDataSource.CloseFailed e) {
            closedOutside = e.closed;
            throw new CommandFailure("closing the app's connections to " + db.path() + " failed: " + Failures.describe(e.getCause())
                    + "; nothing changed. Push again; if it fails again, the app's log says more", e.getCause());
        }
    }

    /**
     * Makes a refusal say what the swap did before it: the file is unchanged, but the connections
     * held outside the gate that it closed are closed, and their transactions rolled back.
     */
    private CommandFailure ownUpToClosed(CommandFailure failure) {
        if (closedOutside.connections() == 0) {
            return failure;
        }
        String told = "the database file is unchanged, but " + closedOutside.describe();
        String message = failure.getMessage();
        int at = message.indexOf(NOTHING_CHANGED);
        message = at < 0 ? message + "; " + told
                : message.substring(0, at) + told + message.substring(at + NOTHING_CHANGED.length());
        CommandFailure honest = new CommandFailure(message, failure.getCause());
        for (Throwable t : failure.getSuppressed()) {
            honest.addSuppressed(t);
        }
        return honest;
    }

    /**
     * A connection the app opened outside the DataSource and listeners would keep the old file open
     * and could later apply its journal to the new one: refuse, unless forced. With swap listeners,
     * which may close such connections on another thread, wait for them within the swap's timeout.
     */
    private void refuseForeignConnections(Path live, long deadline) throws CommandFailure, InterruptedException {
        int open = OpenHandles.count(live);
        while (open > 0 && !db.listeners().isEmpty() && System.nanoTime() - deadline < 0) {
            Thread.sleep(1);
            open = OpenHandles.count(live);
        }
        int handles = open;
        if (handles == 0) {
            return;
        }
        if (force) {
            noteInGate(Level.WARNING, () -> "swapping with " + handles + " connection(s) still open on " + live + " (--force): "
                    + "they keep reading the old file");
            return;
        }
        // SQLite keeps a closed connection's descriptor while another connection on the file holds a lock, so
        // the count of descriptors can exceed the count of foreign connections: report it as what it is.
        throw new CommandFailure("connection(s) still open on " + live + " that hotswap does not manage (" + handles
                + " open file handle(s)" + (db.listeners().isEmpty() ? "" : " when the swap's timeout of " + timeoutMillis
                + " ms ran out") + "); nothing changed. Take connections from ManagedDatabase.dataSource() or "
                + "close them in a SwapListener, or add --force to swap anyway (those connections keep using the old file)");
    }

    private void refuseIfAbandoned() throws CommandFailure {
        String why = abandoned.get();
        if (why != null) {
            throw new CommandFailure(why);
        }
    }

    /**
     * Another process with the live file open keeps the old file's descriptor, but opens the
     * {@code -wal}, {@code -shm} and {@code -journal} by name: after the rename those belong to the
     * new file, so such a process would read the old file through the new one's WAL (one that had
     * not read yet), or take the app's journal for a hot one, and its writes would land in the new
     * database as pages of the old one (sqlite.org/howtocorrupt.html §2.5). Refuse, unless forced.
     */
    private void refuseOtherProcesses(Path live, long deadline) throws CommandFailure {
        List<String> others;
        try {
            others = OpenHandles.otherProcessesHolding(OpenHandles.inodeOf(live), deadline);
        } catch (IOException e) {
            return; // no live file: nothing to be mixed up with
        } catch (OpenHandles.OutOfTime e) {
            // The gate is closed: the look is one of its steps, bounded by the swap's timeout like the others.
            if (force) {
                noteInGate(Level.WARNING, () -> "swapping without knowing whether another process has " + live
                        + " open (--force): the look through /proc outlasted the swap's timeout (" + e.getMessage() + ")");
                return;
            }
            throw new CommandFailure("the look for other processes with " + live + " open did not finish within the swap's "
                    + "timeout of " + timeoutMillis + " ms (this host has many open files); nothing changed. "
                    + "Give it longer with --timeout MS, or add --force to swap without it");
        }
        if (others.isEmpty()) {
            return;
        }
        if (force) {
            noteInGate(Level.WARNING, () -> "swapping while another process has " + live + " open (--force): "
                    + String.join(", ", others));
            return;
        }
        throw new CommandFailure("another process has " + live + " open (" + String.join(", ", others) + "); after the "
                + "swap it would read the old file through the new one's -wal, and its writes could corrupt the new "
                + "database; nothing changed. Close that program (quit the sqlite3 shell, stop the job), then push again, "
                + "or add --force to swap anyway");
    }

    /** Opens the new database once, then runs the after-swap listeners, before requests are let go. */
    private CommandFailure reopen(boolean replaced, List<SwapListener> prepared, CommandFailure failure) {
        if (replaced) {
            try {
                db.swappableDataSource().reopen();
                noteInGate(Level.INFO, () -> "reconnected to " + db.path());
            } catch (SQLException e) {
                noteInGate(Level.SEVERE, "reconnecting after the swap failed", e);
                failure = keepFirst(failure, new CommandFailure("the database was replaced, but reconnecting failed: " + Failures.describe(e), e));
            }
        }
        for (SwapListener listener : prepared) {
            try {
                listener.afterSwap(db, replaced);
            } catch (Exception | Error e) {
                noteInGate(Level.SEVERE, "after-swap listener failed", e);
                failure = keepFirst(failure, new CommandFailure((replaced ? "the database was replaced, but " : "")
                        + "an after-swap listener failed: " + e, e));
            }
        }
        return failure;
    }

    /** Keeps a line for {@link #gateLog}, where its level is logged. */
    private void noteInGate(Level level, Supplier<String> message) {
        if (LOG.isLoggable(level)) {
            noteInGate(level, message.get(), null);
        }
    }

    private void noteInGate(Level level, String message, Throwable thrown) {
        LogRecord r = new LogRecord(level, message);
        r.setLoggerName(LOG.getName());
        r.setSourceClassName(Swap.class.getName());
        r.setSourceMethodName("run");
        r.setThrown(thrown);
        gateLog.add(r);
    }

    private static CommandFailure keepFirst(CommandFailure first, CommandFailure next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    /**
     * Checkpoints the live database's WAL, if it has one, while requests still run, so that the
     * checkpoint inside the gate has little left to copy. Another connection that is busy only
     * leaves more for that one.
     */
    private void checkpoint(String mode) throws CommandFailure {
        Path live = db.path();
        if (!Files.exists(db.wal())) {
            return;
        }
        try (Connection c = db.dataSource().getConnection()) {
            Sqlite.column(c, "PRAGMA wal_checkpoint(" + mode + ")");
        } catch (SQLException e) {
            throw checkpointFailed(live, e);
        }
    }

    private static CommandFailure checkpointFailed(Path live, SQLException e) {
        // SQLITE_READONLY: the app's user may not write the file (r--r--r--), and the WAL's transactions must go into it first.
        String what = e.getErrorCode() == 8 ? "The app's user may not write " + live + ", and a push first copies the "
                + "transactions in its -wal into it: make it writable for that user (chmod u+w), then push again"
                : "Push again; if it fails again, the app's log says more";
        return new CommandFailure("checkpoint of " + live + " failed: " + Failures.describe(e) + "; nothing changed. " + what, e);
    }

    /**
     * Copies every committed transaction from the WAL into the database file and empties the WAL,
     * waiting for other processes no later than {@code deadline}: the rename drops the old file's
     * WAL, so a checkpoint that does not complete refuses the swap.
     */
    private void checkpointWithin(long deadline) throws CommandFailure {
        Path live = db.path();
        if (!Files.exists(db.wal())) {
            return;
        }
        long leftMillis = Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
        List<String> result;
        // The DataSource holds connections back now; this one waits for locks only as long as the swap has left.
        try (Connection c = db.swappableDataSource().openBounded(leftMillis)) {
            result = Sqlite.row(c, "PRAGMA wal_checkpoint(TRUNCATE)");
        } catch (SQLException e) {
            throw checkpointFailed(live, e);
        }
        // One row: busy (0 or 1), frames in the WAL, frames copied into the database file.
        if (!"0".equals(result.get(0)) || !result.get(1).equals(result.get(2))) {
            throw new CommandFailure("another connection holds a read transaction on " + live + " (a sqlite3 shell, a "
                    + "backup tool such as Litestream, or one the app left open), so its WAL could not be checkpointed "
                    + "within the swap's timeout of " + timeoutMillis + " ms (" + result.get(2) + " of " + result.get(1)
                    + " frames copied); nothing changed. End that transaction or stop that process, then push again");
        }
    }

    /**
     * Keeps a second link to the old file across the rename, so the rename does not free the old
     * blocks while requests wait (DESIGN.md invariant 10). Returns null where links are not possible.
     */
    private Path holdOldInode(Path live) throws CommandFailure {
        if (!Files.exists(live)) {
            return null;
        }
        // Kept as asked, the old file is no temp file: should the app die before keep() names it, the next start rescues it.
        Path link = TempFiles.beside(live, keepPrevious ? TempFiles.KEEP : "old");
        try {
            Files.createLink(link, live);
            return link;
        } catch (IOException | UnsupportedOperationException e) {
            if (keepPrevious) {
                throw new CommandFailure("cannot keep the previous database: this filesystem refused a hard link ("
                        + Failures.describe(e) + "); nothing changed. Pull a backup first, then push without --keep-previous");
            }
            noteInGate(Level.FINE, () -> "no hard link to the old database (" + e + "); the rename will free its blocks");
            return null;
        }
    }

    /** The old database's -wal, -shm or -journal must never be applied to the new file. */
    private void removeStaleSidecars(Path live) throws IOException {
        for (String suffix : TempFiles.SIDECARS) {
            Path stale = live.resolveSibling(live.getFileName() + suffix);
            if (Files.deleteIfExists(stale)) {
                noteInGate(Level.INFO, () -> "removed stale " + stale.getFileName());
            }
        }
    }
}
