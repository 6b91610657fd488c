package hotswap.wire;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * Writes database bytes to a file (or to stdout) in pieces of {@link #PIECE_BYTES}.
 *
 * <p>Why not the whole 1 MiB frame at once: the kernel backs a large write to a new file with
 * large page-cache folios, which come from large free blocks of memory, and on a VM those are the
 * blocks most likely handed back to the host and slow to touch again. Smaller writes cost a few
 * more system calls per MiB (docs/PERFORMANCE.md has the measurements).
 *
 * <p>Internal to hotswap: the client and the server share it; it is not part of the public API.
 */
public final class Writes {
    /** Bytes per write call. */
    public static final int PIECE_BYTES = 256 * 1024;

    private Writes() {
    }

    /** Writes all of {@code data} (position to limit) to {@code out}; the position ends at the limit. */
    public static void writeFully(WritableByteChannel out, ByteBuffer data) throws IOException {
        int limit = data.limit();
        try {
            while (data.hasRemaining()) {
                data.limit(Math.min(limit, data.position() + PIECE_BYTES));
                while (data.hasRemaining()) {
                    out.write(data);
                }
                data.limit(limit);
            }
        } finally {
            data.limit(limit);
        }
    }
}
