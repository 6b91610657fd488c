package hotswap.cli;

import hotswap.wire.FileIds;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Pattern;

/**
 * The app's finished snapshot file, which it offers by path rather than streaming it. On the app's own
 * machine, which is where this client runs, taking the file is far cheaper than a stream through
 * the socket: a hard link into the destination's directory copies nothing, and a copy from the file
 * runs in the kernel. The file is taken only if it is the one the app named: same device and inode,
 * same size. A client that sees another file or none at that path (another mount namespace) asks
 * for the stream instead.
 *
 * <p>This client links to the offered file, or reads it; it never writes, truncates or chmods it.
 */
final class OfferedSnapshot implements AutoCloseable {
    /** Bytes per copy call: large enough to cost nothing, small enough for a live progress line. */
    private static final long COPY_STEP_BYTES = 16L << 20;

    /**
     * How the app names a snapshot file (TempFiles: {@code .<db name>.hotswap-<random>.pull}). A path
     * of any other name is not taken, so no mistake on the app's side can have this client take a
     * file that is not a snapshot.
     */
    private static final Pattern SNAPSHOT_NAME = Pattern.compile("\\..+\\.hotswap-[0-9a-f]{16}\\.pull");

    private final String offeredPath;
    private final Path path;
    private final String id;
    private final long size;
    private FileChannel opened;

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

    /** Opens the file at {@code path} to read if it is the one with {@code id}; null otherwise. */
    static FileChannel openIfSame(Path path, String id, OpenOption... options) {
        try {
            FileChannel channel = FileChannel.open(path, options);
            if (FileIds.of(path).equals(id)) {
                return channel;
            }
            channel.close();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            // Not visible from here.
        }
        return null;
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

    /** Makes {@code name} a hard link to the offered file; false, leaving nothing at {@code name}, if it cannot. */
    boolean linkAs(Path name) {
        if (!offered()) {
            return false;
        }
        try {
            Files.createLink(name, path);
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false; // another file system, most often: then it is copied or streamed
        }
        try {
            if (FileIds.of(name).equals(id) && Files.size(name) == size) {
                return true;
            }
        } catch (IOException e) {
            // Not verifiable: not taken.
        }
        try {
            Files.deleteIfExists(name);
        } catch (IOException ignored) {
            // It is our own temp name; the caller discards it too.
        }
        return false;
    }

    /**
     * Opens the offered file; false if it cannot be opened or is not the offered file. Once the app
     * hears that it was taken, it drops its own name for it; the open descriptor keeps the bytes.
     */
    boolean open() {
        if (!offered()) {
            return false;
        }
        FileChannel channel = openIfSame(path, id, StandardOpenOption.READ);
        try {
            if (channel != null && channel.size() == size) {
                opened = channel;
                return true;
            }
            if (channel != null) {
                channel.close();
            }
        } catch (IOException e) {
            // Not measurable: it is streamed.
        }
        return false;
    }

    /** Copies the whole opened file to {@code out}, from its start, counting bytes into {@code progress}. */
    void copyTo(WritableByteChannel out, Progress progress) throws IOException {
        transfer(0, size, out, progress);
    }

    /** Copies bytes {@code from} to {@code to} of the opened file to {@code out}, at its position, which advances. */
    private void transfer(long from, long to, WritableByteChannel out, Progress progress) throws IOException {
        for (long pos = from; pos < to; ) {
            long n = opened.transferTo(pos, Math.min(COPY_STEP_BYTES, to - pos), out);
            if (n <= 0) {
                throw new IOException("the app's snapshot file ended after " + pos + " of " + size + " bytes");
            }
            pos += n;
            progress.add(n);
        }
    }

    @Override
    public void close() {
        if (opened != null) {
            try {
                opened.close();
            } catch (IOException ignored) {
                // Read-only: nothing is lost.
            }
        }
    }
}
