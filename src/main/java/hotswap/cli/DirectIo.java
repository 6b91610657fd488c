package hotswap.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes that bypass the page cache (O_DIRECT), for copying a snapshot the app already holds in its
 * page cache: the bytes go from there straight to the disk, and the copy takes no page cache of its
 * own. On this VM fresh page cache is what makes a copy slow: copying a 1 GiB snapshot after two
 * other 1 GiB files had been written took 1.3-1.9 s through the page cache, and 0.58-0.68 s with
 * direct I/O, in a scratch A/B.
 */
final class DirectIo {
    /** Direct I/O needs offsets, sizes and buffers aligned to the device's blocks; 4 KiB serves the usual ones. */
    static final int ALIGNMENT = 4096;
    /** Bytes per read and write: large enough to cost nothing, small enough for a live progress line. */
    static final int STEP_BYTES = 8 << 20;
    /** O_DIRECT, or null where this runtime lacks it. */
    private static final OpenOption DIRECT = directOption();

    private DirectIo() {
    }

    static boolean aligned(long n) {
        return n % ALIGNMENT == 0;
    }

    /** Opens {@code target} for direct writes; null where that cannot be done (no O_DIRECT, a file system that refuses it). */
    static FileChannel openForWriting(Path target) {
        if (DIRECT == null) {
            return null;
        }
        try {
            return FileChannel.open(target, StandardOpenOption.WRITE, DIRECT);
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return null;
        }
    }

    /** A buffer of {@link #STEP_BYTES}, aligned for direct I/O. */
    static ByteBuffer buffer() {
        return ByteBuffer.allocateDirect(STEP_BYTES + ALIGNMENT).alignedSlice(ALIGNMENT);
    }

    /**
     * Fills {@code buffer} up to its limit from {@code in} at {@code pos}, then flips it.
     *
     * @param size the size the file should have, for the error when it is shorter
     */
    static void readFully(FileChannel in, ByteBuffer buffer, long pos, long size) throws IOException {
        while (buffer.hasRemaining()) {
            if (in.read(buffer, pos + buffer.position()) < 0) {
                throw new IOException("the app's snapshot file ended after " + (pos + buffer.position()) + " of " + size + " bytes");
            }
        }
        buffer.flip();
    }

    /** Writes all of {@code buffer} to {@code out} at {@code pos}; the buffer's position is left at its limit. */
    static void writeFully(FileChannel out, ByteBuffer buffer, long pos) throws IOException {
        int start = buffer.position();
        while (buffer.hasRemaining()) {
            out.write(buffer, pos + buffer.position() - start);
        }
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
}
