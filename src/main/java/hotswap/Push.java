package hotswap;

import hotswap.wire.Channel;
import hotswap.wire.CopyRequest;
import hotswap.wire.DiskRoom;
import hotswap.wire.Failures;
import hotswap.wire.Frames;
import hotswap.wire.Packer;
import hotswap.wire.Protocol;
import hotswap.wire.ProtocolException;
import hotswap.wire.Writes;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Receives a new database from the client into a temp file beside the live one, checks it, makes
 * it match what the app expects (journal mode, permission bits), and hands it to {@link Swap}.
 * Whatever fails before the swap leaves the live database untouched and the temp file removed.
 */
final class Push {
    private static final Logger LOG = Logger.getLogger(Push.class.getName());

    private final Hotswap hotswap;
    private final ManagedDatabase db;
    private final CopyRequest request;
    private final Frames frames;
    private final Session session;
    /** Set once the swap has run: from then on, a failure no longer means that nothing changed. */
    private boolean swapped;

    Push(Hotswap hotswap, ManagedDatabase db, CopyRequest request, Frames frames, Session session) {
        this.hotswap = hotswap;
        this.db = db;
        this.request = request;
        this.frames = frames;
        this.session = session;
    }

    /**
     * Receives, checks and swaps. Every failure becomes a {@link CommandFailure} that says whether
     * the live database changed.
     *
     * @return what finishes the push once the client has its exit status: its last log line
     */
    AutoCloseable run() throws CommandFailure {
        try {
            return receiveCheckAndSwap();
        } catch (CommandFailure | IOException e) {
            if (!swapped && session.stoppedByServer()) { // its connection closed, its check cancelled: neither the file's fault nor the directory's
                throw new CommandFailure("push to " + db.path() + " stopped: the app is shutting down; nothing changed. "
                        + "Push again once it is back", e);
            }
            if (e instanceof CommandFailure f) {
                throw f;
            }
            Path dir = db.path().getParent();
            throw new CommandFailure(swapped
                    ? "the database " + db.path() + " was replaced, but finishing the push failed: " + Failures.describe(e)
                    : "push to " + db.path() + " failed: " + Failures.describe(e) + "; nothing changed. Check that " + dir
                            + " is a directory the app can write, then push again", e);
        }
    }

    private AutoCloseable receiveCheckAndSwap() throws CommandFailure, IOException {
        Events.PushEvent event = new Events.PushEvent();
        event.begin();
        long started = System.nanoTime();
        Path live = db.path();
        Path temp = TempFiles.beside(live, "push");
        LOG.info(() -> "push started: " + live);
        try {
            DiskRoom room = DiskRoom.of(live.getParent());
            checkSpace(room, live.getParent(), request.sourceSize());
            long delta = request.deltaSource() == null ? -1 : new DeltaTransfer(frames, request.deltaSource()).receive(db, temp, room);
            if (delta < 0) {
                frames.writeStrings(Channel.CONTROL, List.of("push"));
            }
            long bytes = delta >= 0 ? delta : receive(temp, room);
            LOG.info(() -> "bytes received: " + bytes);
            phase("checking");
            PushedFile pushed = new PushedFile(temp);
            boolean pushedWal = check(pushed);
            phase("swapping");
            Swap swap = new Swap(hotswap, db, temp, timeoutMillis(), request.force(), request.keepPrevious(),
                    () -> session.aborted() ? "the app is shutting down; nothing changed. Push again once it is back"
                            : session.clientHungUp() ? "the client hung up before the swap (stopped, or its connection cut); "
                            + "nothing changed" : null);
            Swap.Result result;
            try {
                result = matchLiveAndSwap(temp, pushed, pushedWal, swap);
                swapped = true;
                swap.freeReplaced();
                if (result.previous() != null) {
                    frames.writeText(Channel.STDERR, "Kept the replaced database as " + result.previous() + "\n");
                }
                frames.writeText(Channel.STDOUT, "OK\n");
            } catch (CommandFailure | IOException e) {
                swap.freeReplaced();
                if (swap.landed() != null) { // replaced, then failed (an afterSwap, the OK to a client gone): a swap all the same
                    swapped = true;
                    record(bytes, swap.landed(), event);
                }
                throw e;
            }
            record(bytes, result, event);
            return () -> LOG.info(() -> String.format("push complete: %s (%d bytes in %d ms; requests paused %.1f ms)",
                    live, bytes, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), result.pauseMillis()));
        } finally {
            TempFiles.deleteQuietly(temp);
        }
    }

    /** Counts the swap in the database's figures and commits its flight recorder events, where a recording wants them. */
    private void record(long bytes, Swap.Result result, Events.PushEvent push) {
        String source = request.origin().label();
        db.activity.swapped(bytes, result.pauseMillis(), source);
        Events.SwapEvent pause = result.pause();
        if (pause.shouldCommit()) {
            pause.database = db.name();
            pause.path = db.path().toString();
            pause.bytes = bytes;
            pause.source = source;
            pause.commit();
        }
        push.end();
        if (push.shouldCommit()) {
            push.database = db.name();
            push.path = db.path().toString();
            push.bytes = bytes;
            push.source = source;
            push.pauseMillis = result.pauseMillis();
            push.commit();
        }
    }

    /** Tells the client which phase the push is in, for its progress line. */
    private void phase(String name) throws IOException {
        frames.writeStrings(Channel.CONTROL, List.of("phase", name));
    }

    private long timeoutMillis() {
        return request.timeoutMillis() > 0 ? request.timeoutMillis() : hotswap.swapTimeoutMillis();
    }

    /** Fails before receiving anything when the pushed size is known and cannot fit beside the app's own writes. */
    private static void checkSpace(DiskRoom room, Path dir, long size) throws CommandFailure, IOException {
        if (size >= 0 && room.spare() < size) {
            throw new CommandFailure("not enough disk space in " + dir + ": the push needs " + size + " bytes and " + room.describe()
                    + "; nothing changed. Free some space and push again");
        }
    }

    private long receive(Path temp, DiskRoom room) throws CommandFailure, IOException {
        try (FileChannel out = FileChannel.open(temp, java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
            long received = receiveInto(out, temp, room);
            try {
                out.force(true);
            } catch (IOException e) {
                throw writeFailed(temp, e);
            }
            return received;
        }
    }

    private long receiveInto(FileChannel out, Path temp, DiskRoom room) throws CommandFailure, IOException {
        long received = 0;
        byte[] start = new byte[PushedFile.START_BYTES]; // checked as soon as they are in
        // For chunks that come deflated, which only a request allowing compression may send.
        try (Packer.Unpacker unpacker = new Packer.Unpacker(Protocol.DATA_CHUNK_BYTES)) {
            while (true) {
                Frames.Frame frame;
                try {
                    frame = frames.readStreamed(); // the producer may pause: only a silent client is cut off as idle
                } catch (EOFException e) {
                    frame = null;
                } catch (IOException e) {
                    throw new CommandFailure("receiving the database failed after " + received + " bytes: "
                            + Failures.describe(e) + "; nothing changed", e);
                }
                if (frame == null) {
                    throw new CommandFailure("the client disconnected after sending " + received + " bytes; nothing changed");
                }
                ByteBuffer bytes = frame.payload();
                if (frame.channel() == Channel.DATA_IN_DEFLATED) {
                    if (!request.compress()) {
                        throw new CommandFailure("protocol error: the client sent a deflated chunk, but its request did not allow "
                                + "compression; nothing changed. Use the same hotswap version on both ends");
                    }
                    try {
                        bytes = unpacker.inflate(bytes);
                    } catch (ProtocolException e) {
                        throw new CommandFailure("protocol error after " + received + " bytes: " + e.getMessage() + "; nothing changed");
                    }
                } else if (frame.channel() != Channel.DATA_IN) {
                    throw new CommandFailure("protocol error: expected database bytes, got a " + frame.channel()
                            + " frame; nothing changed");
                } else if (frame.isEndOfStream()) {
                    return received;
                }
                if (received < start.length) {
                    int n = (int) Math.min(start.length - received, bytes.remaining());
                    bytes.duplicate().get(start, (int) received, n);
                    if (received + n == start.length) {
                        PushedFile.checkStart(start);
                    }
                }
                try {
                    // Each chunk first asks for room: a push of unknown size stops before the disk fills under the app.
                    if (room.spare() < bytes.remaining()) {
                        throw new CommandFailure("not enough disk space in " + temp.getParent() + " for the pushed database: after "
                                + received + " bytes, " + room.describe() + "; nothing changed. Free some space and push again");
                    }
                    received += bytes.remaining();
                    Writes.writeFully(out, bytes);
                } catch (IOException e) {
                    throw writeFailed(temp, e);
                }
            }
        }
    }

    private static CommandFailure writeFailed(Path temp, IOException e) {
        return new CommandFailure("could not write the pushed database to " + temp.getParent() + ": "
                + Failures.describe(e) + "; nothing changed. Free some space there and push again", e);
    }

    /** Checks the received file on its own: its header, then its integrity. Returns true for WAL mode. */
    private boolean check(PushedFile pushed) throws CommandFailure, IOException {
        boolean pushedWal = pushed.checkHeader();
        if (request.integrity() == CopyRequest.Integrity.SKIP) {
            LOG.info("integrity check: skipped");
        } else {
            long t = System.nanoTime();
            pushed.checkIntegrity(request.integrity() == CopyRequest.Integrity.QUICK, session::running);
            LOG.info(() -> "integrity check: ok (" + millisSince(t) + " ms)");
        }
        return pushedWal;
    }

    /**
     * Makes the received file fit to replace the live one, then swaps it in, holding the database's
     * {@code fileLock} for writing from the first look at the live one to the swap: pulls of it have
     * finished, and another push's swap can neither close the connection that reads it nor replace
     * what this push is checked against.
     */
    private Swap.Result matchLiveAndSwap(Path temp, PushedFile pushed, boolean pushedWal, Swap swap)
            throws CommandFailure, IOException {
        try {
            db.fileLock.writeLock().lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommandFailure("interrupted while waiting for another push or a pull of " + db.path() + " to finish; nothing changed");
        }
        try {
            matchLive(temp, pushed, pushedWal);
            if (!session.beginSwap()) {
                throw new CommandFailure("the app is shutting down; nothing changed. Push again once it is back");
            }
            return swap.run();
        } finally {
            db.fileLock.writeLock().unlock();
        }
    }

    /** Checks the received file against the live one, and gives it the live one's journal mode and permissions. */
    private void matchLive(Path temp, PushedFile pushed, boolean pushedWal) throws CommandFailure, IOException {
        Path live = db.path();
        // An empty file is no database yet: SQLite makes one when the app first asks for a connection to a
        // path where there is none (a request before the first push), and it has no schema nor journal mode to keep.
        boolean empty = Files.exists(live) && Files.size(live) == 0; // a stat: no descriptor, so no lock of SQLite's is dropped
        if (empty) {
            LOG.info(() -> "schema check: skipped, " + live + " is empty (no database yet); the pushed file keeps its journal mode");
        } else if (Files.exists(live)) {
            List<String> liveSchema;
            boolean liveWal;
            try (Connection c = db.dataSource().getConnection()) {
                liveSchema = PushedFile.schema(c);
                liveWal = "wal".equalsIgnoreCase(Sqlite.journalMode(c));
            } catch (SQLException e) {
                throw new CommandFailure("could not read the live database " + live + ": " + Failures.describe(e) + "; nothing changed", e);
            }
            if (request.checkSchema()) {
                pushed.checkSchema(liveSchema);
                LOG.info("schema check: ok");
            } else {
                LOG.info("schema check: skipped");
            }
            if (liveWal != pushedWal) {
                pushed.setWal(liveWal);
                LOG.info(() -> "journal mode of the pushed file set to " + (liveWal ? "WAL" : "DELETE") + " to match the live database");
            }
        }
        if (Files.exists(live)) {
            Files.setPosixFilePermissions(temp, Files.getPosixFilePermissions(live));
            keepOwnership(live, temp);
        } else {
            LOG.info(() -> "schema check: skipped, " + live + " does not exist yet");
        }
        // Checks may leave -wal/-shm files beside the temp file; they must not follow it.
        for (String suffix : TempFiles.SIDECARS) {
            Files.deleteIfExists(temp.resolveSibling(temp.getFileName() + suffix));
        }
        // Read-only: the file has the live one's mode by now, which may not let its owner write (r--r--r--).
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /**
     * Gives the new file the live one's group and owner, so that other users' processes that use
     * the database through them keep their access; where the app may not (chown takes root, chgrp a
     * group of the app's user), the client is told.
     */
    private void keepOwnership(Path live, Path temp) throws IOException {
        PosixFileAttributes was = Files.readAttributes(live, PosixFileAttributes.class);
        PosixFileAttributes is = Files.readAttributes(temp, PosixFileAttributes.class);
        PosixFileAttributeView view = Files.getFileAttributeView(temp, PosixFileAttributeView.class);
        try {
            if (!was.group().equals(is.group())) {
                view.setGroup(was.group());
            }
            if (!was.owner().equals(is.owner())) {
                view.setOwner(was.owner());
            }
        } catch (IOException e) {
            String note = "Note: " + live + " belongs to " + was.owner().getName() + ":" + was.group().getName()
                    + "; the app may not give the new database that owner and group (" + Failures.describe(e) + "), so it gets "
                    + is.owner().getName() + ":" + is.group().getName() + " with the same permission bits";
            LOG.warning(note);
            frames.writeText(Channel.STDERR, note + "\n");
        }
    }

    static long millisSince(long nanoStart) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanoStart);
    }
}
