package hotswap;

import hotswap.wire.Channel;
import hotswap.wire.CopyRequest;
import hotswap.wire.Delta;
import hotswap.wire.DiskRoom;
import hotswap.wire.Frames;
import hotswap.wire.PageHashes;
import hotswap.wire.ProtocolException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.BitSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The app's side of a delta transfer ({@link Delta}): for a push, it builds the pushed file from a
 * snapshot of the live database and the pages the client sends; for a pull, it sends the client
 * the pages of the snapshot its existing file lacks. Where the page sizes differ, it says so once
 * and the transfer goes on whole.
 */
final class DeltaTransfer {
    private static final Logger LOG = Logger.getLogger(DeltaTransfer.class.getName());

    private final Frames frames;
    private final CopyRequest.Pages client;

    /** @param client the pages of the client's file, from the request */
    DeltaTransfer(Frames frames, CopyRequest.Pages client) {
        this.frames = frames;
        this.client = client;
    }

    /**
     * A push: snapshots the live database into {@code temp}, which must not exist, and patches
     * it into the client's file, synced.
     *
     * @param room the room beside the live database, where the snapshot goes
     * @return the pushed file's size, or -1 when the page sizes differ: {@code temp} is gone and the
     *         client has been told to send the whole file
     */
    long receive(ManagedDatabase db, Path temp, DiskRoom room) throws CommandFailure, IOException {
        Path live = db.path();
        if (!Files.exists(live)) {
            // Nothing to compare with; and the snapshot's connection would create the live file, empty, which
            // then fails the schema check and stays behind if the push is refused (invariant 4).
            note("Note: " + live + " does not exist yet; copying the whole file");
            return -1;
        }
        // The snapshot comes first, as large as the live database and its WAL, then grows to the pushed file's
        // size: Push checked room for the pushed file only, and filling the disk would fail the app's own
        // writes. The whole file may fit.
        Path wal = db.wal();
        long need = Math.max(Files.size(live) + (Files.exists(wal) ? Files.size(wal) : 0), (long) client.pageSize() * client.count());
        if (room.spare() < need) {
            note("Note: no room beside it for a snapshot of " + live + " (up to " + need + " bytes; " + room.describe()
                    + "); copying the whole file");
            return -1;
        }
        if (Pull.backupTarget(temp) == null) {
            note("Note: the app cannot take a snapshot in " + live.getParent() + " (its path holds white space, ' and \" "
                    + "all three); copying the whole file");
            return -1;
        }
        phase("snapshot");
        try (FileChannel file = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
            Pull.snapshot(db, live, temp);
            CopyRequest.Pages mine = PageHashes.shape(file);
            if (!samePageSize(mine, "the live database", "the pushed file")) {
                file.close();
                TempFiles.deleteQuietly(temp);
                return -1;
            }
            long received;
            try {
                phase("hashing");
                PageHashes hashes = PageHashes.of(file, mine.pageSize(), mine.count(), n -> { }, null);
                frames.writeStrings(Channel.CONTROL, List.of("delta", "push", Integer.toString(mine.count()), ""));
                Delta delta = new Delta(mine.pageSize(), mine.count(), client.count(), frames, Channel.DATA_OUT, this::next);
                delta.sendRanges(hashes);
                delta.answerGroups(hashes);
                phase("receiving");
                received = delta.receivePages(hashes, file, n -> { }, n -> { });
            } catch (Delta.RootMismatch e) {
                throw new CommandFailure("the delta push failed: " + e.getMessage() + "; nothing changed. "
                        + "If something wrote to the source file during the push, push again once it is done; "
                        + "if it fails with an unchanging source, push with --no-delta and report this", e);
            } catch (ProtocolException e) {
                throw new CommandFailure("the delta push failed: " + e.getMessage() + "; nothing changed. "
                        + "Push again; if it fails again, push with --no-delta and report this", e);
            } catch (PageHashes.OutOfMemory e) {
                throw new CommandFailure("the delta push failed: " + e.getMessage() + "; nothing changed. "
                        + "Push with --no-delta, or give the app more memory", e);
            }
            file.force(true);
            long size = file.size();
            LOG.info(() -> "delta push: received " + received + " of " + client.count() + " pages");
            return size;
        }
    }

    /**
     * A pull: sends the pages of {@code snapshot} that the client's file lacks.
     *
     * @return false when the page sizes differ: the client has been told, and nothing else was sent
     */
    boolean send(FileChannel snapshot, String mode, boolean compress) throws CommandFailure, IOException {
        CopyRequest.Pages mine = PageHashes.shape(snapshot);
        if (!samePageSize(mine, "the live database", "your copy")) {
            return false;
        }
        phase("hashing");
        PageHashes hashes;
        try {
            hashes = PageHashes.of(snapshot, mine.pageSize(), mine.count(), n -> { }, null);
        } catch (PageHashes.OutOfMemory e) {
            throw new CommandFailure("the delta pull failed: " + e.getMessage() + "; nothing was copied. "
                    + "Pull with --no-delta, or give the app more memory", e);
        }
        frames.writeStrings(Channel.CONTROL, List.of("delta", "pull", Integer.toString(mine.count()), mode));
        Delta delta = new Delta(mine.pageSize(), client.count(), mine.count(), frames, Channel.DATA_OUT, this::next);
        try {
            delta.answerRanges(hashes);
            BitSet changed = delta.changedPages(hashes);
            delta.sendPages(snapshot, changed, hashes.root(), compress, n -> { });
            LOG.info(() -> "delta pull: sent " + changed.cardinality() + " of " + mine.count() + " pages");
        } catch (ProtocolException e) {
            throw new CommandFailure("the delta pull failed: " + e.getMessage() + "; nothing was copied", e);
        } catch (Delta.ReadFailure e) {
            throw new CommandFailure("the delta pull failed: cannot read the snapshot: " + e.getMessage() + "; nothing was copied", e);
        }
        return true;
    }

    private boolean samePageSize(CopyRequest.Pages mine, String ours, String theirs) throws IOException {
        if (mine != null && mine.pageSize() == client.pageSize()) {
            return true;
        }
        String note = mine == null ? "Note: the snapshot has no whole pages to compare; copying the whole file"
                : "Note: " + ours + " has " + mine.pageSize() + "-byte pages and " + theirs + " " + client.pageSize()
                        + "-byte pages; copying the whole file";
        note(note);
        return false;
    }

    private void note(String note) throws IOException {
        LOG.info(note);
        frames.writeText(Channel.STDERR, note + "\n");
    }

    private void phase(String name) throws IOException {
        frames.writeStrings(Channel.CONTROL, List.of("phase", name));
    }

    /**
     * The client's next delta message piece. Not under the idle timeout: the client may be hashing
     * a large file before it answers.
     */
    private java.nio.ByteBuffer next() throws IOException {
        Frames.Frame f = frames.readStreamed();
        if (f == null) {
            throw new EOFException("the client hung up during the delta transfer");
        }
        if (f.channel() != Channel.DATA_IN) {
            throw new ProtocolException("expected delta data, got a " + f.channel() + " frame");
        }
        return f.payload();
    }

}
