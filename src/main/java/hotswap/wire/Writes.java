package hotswap.wire;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;

/**
 * Writes database bytes to a file (or to stdout), all of them: a channel may take fewer bytes
 * than offered in one call (a pipe, a nearly full disk).
 *
 * <p>Writes to a file go in pieces of at most {@link #FILE_PIECE_BYTES}. The page cache backs a
 * write with folios about as large as the write; on a virtual machine whose host takes back the
 * guest's free memory, large folios come from memory the host must fault in again, which costs
 * many times the copy itself, while small ones come from the kernel's per-CPU lists of recently
 * freed pages (docs/PERFORMANCE.md). Elsewhere the extra system calls cost little.
 *
 * <p>Internal to hotswap: the client and the server share it; it is not part of the public API.
 */
public final class Writes {
    /** 16 KiB: page-cache folios of at most four pages. */
    static final int FILE_PIECE_BYTES = 16 << 10;

    private Writes() {
    }

    /**
     * Writes all of {@code data} (position to limit) to {@code out}, in pieces if it is a file (or
     * a descriptor such as stdout); the position ends at the limit.
     */
    public static void writeFully(WritableByteChannel out, ByteBuffer data) throws IOException {
        int piece = out instanceof FileChannel ? FILE_PIECE_BYTES : Integer.MAX_VALUE;
        int end = data.limit();
        try {
            while (data.hasRemaining()) {
                data.limit((int) Math.min(end, (long) data.position() + piece));
                out.write(data);
                data.limit(end);
            }
        } finally {
            data.limit(end);
        }
    }

    /** Writes all of {@code data} (position to limit) to {@code file} at {@code at}, in pieces; the position ends at the limit. */
    public static void writeFully(FileChannel file, ByteBuffer data, long at) throws IOException {
        long start = at - data.position();
        int end = data.limit();
        try {
            while (data.hasRemaining()) {
                data.limit((int) Math.min(end, (long) data.position() + FILE_PIECE_BYTES));
                file.write(data, start + data.position());
                data.limit(end);
            }
        } finally {
            data.limit(end);
        }
    }
}
