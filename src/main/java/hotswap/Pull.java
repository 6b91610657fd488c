package hotswap;

import hotswap.wire.Channel;
import hotswap.wire.CopyRequest;
import hotswap.wire.DiskRoom;
import hotswap.wire.Failures;
import hotswap.wire.FileIds;
import hotswap.wire.FileModes;
import hotswap.wire.Frames;
import hotswap.wire.Packer;
import hotswap.wire.Protocol;
import hotswap.wire.ProtocolException;
import hotswap.wire.Reads;
import hotswap.wire.Strings;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Takes a consistent snapshot of a live database with SQLite's backup API into a temp file, then
 * hands it to the client: the finished file itself, which a client on this machine links or
 * copies, or a stream of it through the socket.
 *
 * <p>The backup runs on a connection that first opens a read transaction. SQLite restarts a
 * backup whenever another connection writes the source, so under steady writes a plain backup
 * may never finish; reading inside one transaction copies the one snapshot that transaction sees
 * (DESIGN.md §3, §4).
 */
final class Pull {
    private static final Logger LOG = Logger.getLogger(Pull.class.getName());

    /** How a client may say it took the snapshot file, and what the handover was then. */
    private static final Map<String, String> TAKEN = Map.of(
            "linked", "linked",
            "copying", "copied");

    private final ManagedDatabase db;
    private final CopyRequest request;
    private final Frames frames;

    Pull(ManagedDatabase db, CopyRequest request, Frames frames) {
        this.db = db;
        this.request = request;
        this.frames = frames;
    }

    /**
     * Takes the snapshot and hands it over: by path, or streamed. Refuses before starting when the
     * snapshot would not fit beside the live database. Every failure becomes a {@link CommandFailure}.
     *
     * @return the open snapshot, already unlinked: closing it frees its blocks, which takes a while
     *         for a large file, so the caller closes it after telling the client the outcome (a
     *         client that copies the file may close it last, and free them then)
     */
    AutoCloseable run() throws CommandFailure {
        try {
            return snapshotAndHandOver();
        } catch (IOException e) {
            throw new CommandFailure("pull of " + db.path() + " failed: " + Failures.describe(e) + "; nothing changed"
                    + (e instanceof java.nio.file.AccessDeniedException ? ". The snapshot is written beside the database: "
                    + "let the app's user write " + db.path().getParent() : ""), e);
        }
    }

    private AutoCloseable snapshotAndHandOver() throws CommandFailure, IOException {
        Events.PullEvent event = new Events.PullEvent();
        event.begin();
        long started = System.nanoTime();
        Path live = db.path();
        LOG.info(() -> "pull started: " + live);
        Path snapshot = TempFiles.beside(live, "pull");
        FileChannel in = null;
        try {
            frames.writeStrings(Channel.CONTROL, List.of("phase", "snapshot"));
            checkSource(live);
            checkSpace(db);
            // Made empty here (SQLite takes an empty file as an empty database) and opened before the backup
            // writes it, to be read afterwards. The descriptor stays open until SQLite has closed the file, so
            // closing it drops no lock of SQLite's.
            in = FileChannel.open(snapshot, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            snapshot(db, live, snapshot);
            long size = in.size();
            refuseIfNotWritten(live, snapshot, size);
            LOG.info(() -> "snapshot taken: " + size + " bytes in " + Push.millisSince(started) + " ms");
            String mode = FileModes.toOctal(Files.getPosixFilePermissions(live));
            String how = request.deltaDestination() != null
                    && new DeltaTransfer(frames, request.deltaDestination()).send(in, mode, request.compress())
                    ? "delta" : handOver(snapshot, in, size, mode);
            LOG.info(() -> "pull complete: " + live + " (" + size + " bytes in " + Push.millisSince(started) + " ms, " + how
                    + (TAKEN.containsValue(how) ? " by the client" : "") + ")");
            db.activity.pulled(size, Push.millisSince(started));
            event.end();
            if (event.shouldCommit()) {
                event.database = db.name();
                event.path = live.toString();
                event.bytes = size;
                event.handover = how;
                event.commit();
            }
            FileChannel done = in;
            in = null;
            return done;
        } finally {
            if (in != null) {
                in.close();
            }
            TempFiles.deleteQuietly(snapshot);
        }
    }

    /**
     * The backup writes the file at the snapshot's name: should something have removed it while the
     * pull waited (another app on the same database, starting, takes it for a leftover), the backup
     * made a new file there, and the one held open here, empty, must not be handed over as the snapshot.
     */
    private static void refuseIfNotWritten(Path live, Path snapshot, long size) throws CommandFailure {
        long written;
        try {
            written = Files.size(snapshot);
        } catch (IOException e) {
            written = -1;
        }
        if (written != size) {
            throw new CommandFailure("pull of " + live + " failed: its snapshot file " + snapshot + " was removed or replaced "
                    + "while the pull ran (by another app that manages the same database, starting?); nothing was copied. "
                    + "Pull again");
        }
    }

    /**
     * Offers the snapshot file, and streams it unless the client took it.
     *
     * @return how it went: linked, copied or streamed
     */
    private String handOver(Path snapshot, FileChannel in, long size, String mode) throws IOException {
        String taken = offer(snapshot, idOf(snapshot), size, mode);
        TempFiles.deleteQuietly(snapshot); // the open channel keeps the bytes; nothing is left behind if we die
        if (taken != null) {
            return TAKEN.get(taken);
        }
        if (request.compress()) {
            streamDeflated(in, size);
        } else {
            for (long pos = 0; pos < size; pos += Protocol.PULL_CHUNK_BYTES) {
                frames.transferFrom(Channel.DATA_OUT, in, pos, (int) Math.min(Protocol.PULL_CHUNK_BYTES, size - pos));
            }
        }
        frames.writeEnd(Channel.DATA_OUT);
        return "streamed";
    }

    /** Streams the snapshot with each chunk deflated where that pays: a remote client's link, as its request allows. */
    private void streamDeflated(FileChannel in, long size) throws IOException {
        byte[] raw = new byte[Protocol.PULL_CHUNK_BYTES];
        try (Packer packer = new Packer(true, raw.length)) {
            for (long pos = 0; pos < size; pos += raw.length) {
                int n = (int) Math.min(raw.length, size - pos);
                ByteBuffer chunk = ByteBuffer.wrap(raw, 0, n);
                if (!Reads.readFully(in, chunk, pos)) {
                    throw new IOException("the snapshot ended at " + (pos + chunk.position()) + " of " + size + " bytes");
                }
                packer.send(frames, Channel.DATA_OUT, Channel.DATA_OUT_DEFLATED, raw, n);
            }
        }
    }

    private static void checkSource(Path live) throws CommandFailure {
        Path dir = live.getParent();
        if (!Files.isDirectory(dir)) {
            throw new CommandFailure("pull of " + live + " failed: its directory " + dir
                    + (Files.exists(dir) ? " is not a directory" : " does not exist") + "; nothing was copied. "
                    + "Something removed it while the app runs: restore it, or restart the app");
        }
        if (!Files.exists(live)) {
            throw new CommandFailure(live + " does not exist yet; there is nothing to pull");
        }
    }

    /**
     * Refuses a snapshot that would not fit beside the live database: filling the disk would make
     * the app's own writes fail. The snapshot holds the database file plus what its WAL adds.
     */
    private static void checkSpace(ManagedDatabase db) throws CommandFailure, IOException {
        Path live = db.path();
        Path dir = live.getParent();
        long size = Files.size(live); // a stat: no descriptor, so no lock of SQLite's is dropped (DESIGN.md §3)
        Path wal = db.wal();
        long walSize = Files.exists(wal) ? Files.size(wal) : 0;
        DiskRoom room = DiskRoom.of(dir);
        if (room.spare() < size + walSize) {
            throw new CommandFailure("not enough disk space in " + dir + " for the snapshot: it needs up to " + (size + walSize)
                    + " bytes (" + live.getFileName() + " " + size + " bytes, its -wal " + walSize + " bytes) and "
                    + room.describe() + "; nothing was copied. Free some space there and pull again");
        }
    }

    /** The snapshot's {@link FileIds id}, or null where it has none: then it is neither named nor offered, but streamed. */
    private static String idOf(Path snapshot) {
        try {
            return FileIds.of(snapshot);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Offers the finished snapshot to the client by path: a client on this machine links or copies
     * the file itself, which costs far less than a stream through the socket. Until the client
     * answers, the file keeps its name (one that {@link TempFiles#removeOrphans} knows, should the
     * app die meanwhile).
     *
     * @return how the client took the file (a key of {@link #TAKEN}), or null: stream it
     */
    private String offer(Path snapshot, String id, long size, String mode) throws IOException {
        // Without an id, not offered: the client asks for the stream.
        frames.writeStrings(Channel.CONTROL, List.of("pull", Long.toString(size), id == null ? "" : snapshot.toString(),
                id == null ? "" : id, mode));
        Frames.Frame reply = frames.read();
        if (reply == null) {
            throw new EOFException("the client hung up before it took the snapshot");
        }
        if (reply.channel() != Channel.CONTROL) {
            throw new ProtocolException("expected the client's answer to the snapshot offer, got a " + reply.channel() + " frame");
        }
        List<String> answer = Strings.decode(reply.payload());
        if (answer.equals(List.of("stream"))) {
            return null;
        }
        if (answer.size() == 2 && answer.get(0).equals("took") && TAKEN.containsKey(answer.get(1))) {
            return answer.get(1);
        }
        throw new ProtocolException("unexpected answer to the snapshot offer: " + answer);
    }

    /** Copies {@code live} into the empty file {@code snapshot} with SQLite's backup API, in one read transaction. */
    static void snapshot(ManagedDatabase db, Path live, Path snapshot) throws CommandFailure {
        String target = backupTarget(snapshot);
        if (target == null) {
            throw new CommandFailure("cannot take a snapshot in a directory whose path holds white space, ' and \" all three "
                    + "(sqlite-jdbc's backup command cannot name such a file): " + live.getParent() + "; nothing was copied");
        }
        try {
            // No swap of this database until the snapshot is complete. A stopping server interrupts a command it
            // stops: one that waits here for a swap to end has no client left to take the snapshot.
            db.fileLock.readLock().lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommandFailure("snapshot of " + live + " stopped: the app is shutting down; nothing was copied. "
                    + "Copy again once it is back");
        }
        // A connection like the app's own (not read-only): when it is the last one to close, SQLite checkpoints
        // and removes the -wal and -shm files, instead of leaving them behind as a read-only connection would.
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeQuery("SELECT count(*) FROM sqlite_master").close(); // opens the read transaction
                s.executeUpdate("backup to " + target);
            } finally {
                c.rollback();
            }
        } catch (SQLException e) {
            throw snapshotFailed(live, e);
        } finally {
            db.fileLock.readLock().unlock();
        }
    }

    /**
     * {@code file} as sqlite-jdbc's {@code backup to} command reads a file name: as it is, or in
     * quotes where it holds white space; null where it also holds both kinds of quotes.
     */
    static String backupTarget(Path file) {
        String path = file.toString();
        if (path.chars().noneMatch(Character::isWhitespace)) {
            return path; // absolute, so it cannot start with a quote that the command would strip
        }
        char quote = path.indexOf('\'') < 0 ? '\'' : '"';
        return path.indexOf(quote) < 0 ? quote + path + quote : null;
    }

    static CommandFailure snapshotFailed(Path live, Exception e) {
        return new CommandFailure("snapshot of " + live + " failed: " + Failures.describe(e)
                + ". Check free space in " + live.getParent() + " and try again", e);
    }
}
