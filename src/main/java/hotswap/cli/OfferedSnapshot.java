package hotswap.cli;

import hotswap.wire.FileIds;
import hotswap.wire.OwnUser;
import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The app's finished snapshot file, which it offers by path rather than streaming it. On the app's own
 * machine, which is where this client runs, taking the file is far cheaper than a stream through
 * the socket: a hard link into the destination's directory copies nothing, and a copy from the file
 * runs in the kernel. The file is taken only if the descriptor this client opens on it shows the
 * one the app named: a regular file (no symbolic link is followed) of this client's user, with the
 * same device, inode and size. A client that sees another file or none at that path (another mount
 * namespace) asks for the stream instead.
 *
 * <p>This client links to the offered file, or reads it; it never writes or truncates it. The one
 * change it makes is to the permission bits of a hard link it made and checked, through the
 * checked descriptor: that link becomes the pulled file (see PullSink), and the app drops its own
 * name for the file once told it was linked.
 */
final class OfferedSnapshot implements AutoCloseable {
    /** Bytes per copy call: large enough to cost nothing, small enough for a live progress line. */
    private static final long COPY_STEP_BYTES = 16L << 20;

    /**
     * How the app names a snapshot file (TempFiles: {@code .<db name>.hotswap-<random>.pull}). A path
     * of any other name is not taken, so no mistake on the app's side can have this client take a
     * file that is not a snapshot.
     */
    private static final Pattern SNAPSHOT_NAME = Pattern.compile("\\.(.+)\\.hotswap-[0-9a-f]{16}\\.pull");

    private final String offeredPath;
    private final Path path;
    private final String id;
    private final long size;
    /** The offered file opened to copy from; null until {@link #open} succeeds. */
    private OpenedFile opened;

    /**
     * @param path the path the app gave, or "" when it offers none
     * @param id the file's {@link FileIds id} as the app saw it
     */
    OfferedSnapshot(String path, String id, long size) {
        this.offeredPath = path;
        this.path = snapshotPath(path, id);
        this.id = id;
        this.size = size;
    }

    /**
     * The path the app gave, if it could name a snapshot file at all: absolute, named like one, with
     * an id; otherwise null.
     */
    static Path snapshotPath(String path, String id) {
        Path p;
        try {
            p = path.isEmpty() ? null : Path.of(path);
        } catch (InvalidPathException e) {
            return null; // nothing this client could open: it asks for the stream
        }
        return p != null && p.isAbsolute() && !id.isEmpty() && SNAPSHOT_NAME.matcher(p.getFileName().toString()).matches() ? p : null;
    }

    /** The database a snapshot path from {@link #snapshotPath} was taken of: the file beside it, by its name. */
    static Path databaseOf(Path snapshot) {
        Matcher name = SNAPSHOT_NAME.matcher(snapshot.getFileName().toString());
        if (!name.matches()) {
            throw new IllegalArgumentException("not a snapshot's name: " + snapshot);
        }
        return snapshot.resolveSibling(name.group(1));
    }

    long size() {
        return size;
    }

    /** The path as the app sent it. */
    String offeredPath() {
        return offeredPath;
    }

    String id() {
        return id;
    }

    /** Whether there is a file to try at all. */
    boolean offered() {
        return path != null;
    }

    /**
     * Makes {@code name} a hard link to the offered file and returns the link opened, if it is the
     * snapshot (see {@link #verified}); otherwise null, leaving nothing at {@code name}. link(2) does
     * not follow a symbolic link at the offered path: a symbolic link offered as the snapshot
     * becomes a link to that symbolic link, which the check refuses.
     */
    OpenedFile linkAs(Path name) {
        if (!offered()) {
            return null;
        }
        try {
            Files.createLink(name, path);
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return null; // another file system, most often: then it is copied or streamed
        }
        OpenedFile link = verified(name);
        if (link == null) {
            try {
                Files.deleteIfExists(name);
            } catch (IOException ignored) {
                // It is our own temp name; the caller discards it too.
            }
        }
        return link;
    }

    /**
     * Opens the offered file to copy from, if it is the snapshot; false otherwise. Once the app hears
     * that it was taken, it drops its own name for it; the open descriptor keeps the bytes.
     */
    boolean open() {
        opened = offered() ? verified(path) : null;
        return opened != null;
    }

    /**
     * The file at {@code name}, opened read-only without following a symbolic link, if the opened
     * descriptor shows the snapshot the app offered: a regular file of this client's user, with the
     * offered device, inode and size. Checked on the descriptor, not the path, so no file swapped in
     * at that path after the check is ever read, linked or changed.
     */
    private OpenedFile verified(Path name) {
        OpenedFile file = OpenedFile.open(name, id);
        if (file == null) {
            return null;
        }
        try {
            if (file.isRegularFile() && file.ownerUid() == OwnUser.uid() && file.size() == size) {
                return file;
            }
        } catch (IOException e) {
            // Not provable: not taken.
        }
        file.close();
        return null;
    }

    /** The snapshot file is shorter than offered: the app's side failed, not the output. */
    static final class ShortFile extends IOException {
        ShortFile(String message) {
            super(message);
        }
    }

    /** Copies the whole opened file to {@code out}, from its start, counting bytes into {@code progress}. */
    void copyTo(WritableByteChannel out, Progress progress) throws IOException {
        transfer(0, size, out, progress);
    }

    /** Copies bytes {@code from} to {@code to} of the opened file to {@code out}, at its position, which advances. */
    private void transfer(long from, long to, WritableByteChannel out, Progress progress) throws IOException {
        for (long pos = from; pos < to; ) {
            long n = opened.channel().transferTo(pos, Math.min(COPY_STEP_BYTES, to - pos), out);
            if (n <= 0) {
                throw new ShortFile("the app's snapshot file ended after " + pos + " of " + size + " bytes");
            }
            pos += n;
            progress.add(n);
        }
    }

    @Override
    public void close() {
        if (opened != null) {
            opened.close();
        }
    }
}
