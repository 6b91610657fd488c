package hotswap.cli;

import hotswap.wire.FileIds;
import java.io.IOException;
import java.nio.ByteBuffer;
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
 * <p>This client links to the offered file, or reads it and may shrink it as it copies; it never
 * writes into it.
 */
final class OfferedSnapshot implements AutoCloseable {
    /** Bytes per copy call: large enough to cost nothing, small enough for a live progress line. */
    private static final long COPY_STEP_BYTES = 16L << 20;

    /**
     * How the app names a snapshot file (TempFiles: {@code .<db name>.hotswap-<random>.pull}). A path
     * of any other name is not taken, so no mistake on the app's side can have this client shrink a
     * file that is not a snapshot.
     */
    private static final Pattern SNAPSHOT_NAME = Pattern.compile("\\..+\\.hotswap-[0-9a-f]{16}\\.pull");
    /** Direct I/O needs offsets, sizes and buffers aligned to the device's blocks; 4 KiB serves the usual ones. */
    private static final int DIRECT_ALIGNMENT = 4096;
    private static final int DIRECT_STEP_BYTES = 8 << 20;
    /** O_DIRECT, or null where this runtime lacks it. */
    private static final OpenOption DIRECT = directOption();
    /** Bytes copied before the copied part of the snapshot is cut off, so its memory serves the next step. */
    private static final long MOVE_STEP_BYTES = 8L << 20;

    private final Path path;
    private final String id;
    private final long size;
    private FileChannel opened;

    /**
     * @param path the path the app gave, or "" when it offers none
     * @param id the file's {@link FileIds id} as the app saw it
     */
    OfferedSnapshot(String path, String id, long size) {
        this.path = parse(path);
        this.id = id;
        this.size = size;
    }

    private static Path parse(String path) {
        try {
            return path.isEmpty() ? null : Path.of(path);
        } catch (InvalidPathException e) {
            return null; // nothing this client could open: it asks for the stream
        }
    }

    long size() {
        return size;
    }

    /** Whether there is a file to try at all. */
    boolean offered() {
        return path != null && path.isAbsolute() && !id.isEmpty() && SNAPSHOT_NAME.matcher(path.getFileName().toString()).matches();
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
     * hears that it was taken, it drops its own name for it: the file is this client's, to read and
     * to shrink as it copies ({@link #moveTo}).
     */
    boolean open() {
        if (!offered()) {
            return false;
        }
        try {
            FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            if (FileIds.of(path).equals(id) && channel.size() == size) {
                opened = channel;
                return true;
            }
            channel.close();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            // Not visible from here: it is streamed.
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

    /**
     * Copies the whole opened file into the file at {@code target} at {@code base}, opened anew for
     * direct I/O: the bytes go from the snapshot's page cache straight to the disk, and the copy
     * takes no page cache of its own. On this VM fresh page cache is what makes a copy slow: copying
     * a 1 GiB snapshot after two other 1 GiB files had been written took 1.3-1.9 s through the page
     * cache (back to front, cutting the snapshot as it went), and 0.58-0.68 s with direct I/O, in a
     * scratch A/B. Nothing but the copy itself writes the target meanwhile.
     *
     * @return false when direct I/O cannot be used here (an offset or size not a multiple of 4 KiB,
     *         a file system that refuses it), before anything was written: copy another way
     */
    boolean copyDirect(Path target, long base, Progress progress) throws IOException {
        if (base % DIRECT_ALIGNMENT != 0 || size % DIRECT_ALIGNMENT != 0) {
            return false;
        }
        if (DIRECT == null) {
            return false;
        }
        FileChannel out;
        try {
            out = FileChannel.open(target, StandardOpenOption.WRITE, DIRECT);
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
        try (out) {
            ByteBuffer buffer = ByteBuffer.allocateDirect(DIRECT_STEP_BYTES + DIRECT_ALIGNMENT).alignedSlice(DIRECT_ALIGNMENT);
            for (long pos = 0; pos < size; ) {
                buffer.clear().limit((int) Math.min(DIRECT_STEP_BYTES, size - pos));
                while (buffer.hasRemaining()) {
                    if (opened.read(buffer, pos + buffer.position()) < 0) {
                        throw new IOException("the app's snapshot file ended after " + (pos + buffer.position()) + " of " + size + " bytes");
                    }
                }
                buffer.flip();
                try {
                    while (buffer.hasRemaining()) {
                        out.write(buffer, base + pos + buffer.position());
                    }
                } catch (IOException e) {
                    if (pos == 0) {
                        return false; // refused at once (alignment, file system): the page cache it is
                    }
                    throw e;
                }
                pos += buffer.limit();
                progress.add(buffer.limit());
            }
        }
        return true;
    }

    /**
     * Copies the whole opened file into {@code out} at {@code base}, last step first, cutting each
     * copied step off the snapshot's end, so that the page cache the snapshot frees is what the copy
     * fills next. Where {@link #copyDirect} cannot be used. {@code out} is left positioned after the
     * copy.
     */
    void moveTo(FileChannel out, long base, Progress progress) throws IOException {
        for (long end = size; end > 0; ) {
            long start = Math.max(0, end - MOVE_STEP_BYTES);
            out.position(base + start);
            transfer(start, end, out, progress);
            opened.truncate(start);
            end = start;
        }
        out.position(base + size);
    }

    /**
     * The JDK's {@code ExtendedOpenOption.DIRECT} (module jdk.unsupported), looked up at run time:
     * newer compilers warn about the class even under {@code --release 17}, and the build treats
     * warnings as errors.
     */
    private static OpenOption directOption() {
        try {
            for (Object option : Class.forName("com.sun.nio.file.ExtendedOpenOption").getEnumConstants()) {
                if (((Enum<?>) option).name().equals("DIRECT")) {
                    return (OpenOption) option;
                }
            }
        } catch (ReflectiveOperationException | LinkageError | ClassCastException e) {
            // A runtime without it: copies go through the page cache.
        }
        return null;
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
