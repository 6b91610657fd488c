package hotswap.wire;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;

/**
 * Writes database bytes to a file (or to stdout), all of them: a channel may take fewer bytes
 * than offered in one call (a pipe, a nearly full disk).
 *
 * <p>Internal to hotswap: the client and the server share it; it is not part of the public API.
 */
public final class Writes {
    private Writes() {
    }

    /** Writes all of {@code data} (position to limit) to {@code out}; the position ends at the limit. */
    public static void writeFully(WritableByteChannel out, ByteBuffer data) throws IOException {
        while (data.hasRemaining()) {
            out.write(data);
        }
    }

    /** Writes all of {@code data} (position to limit) to {@code file} at {@code at}; the position ends at the limit. */
    public static void writeFully(FileChannel file, ByteBuffer data, long at) throws IOException {
        long start = at - data.position();
        while (data.hasRemaining()) {
            file.write(data, start + data.position());
        }
    }
}
