package hotswap.wire;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * The B side of {@code make bench}'s A/B of piecewise writes: the same API as the real
 * {@code hotswap.wire.Writes}, writing each frame's payload in one call. Compiled on its own and
 * put ahead of the jar on the bench app's class path; never in the jar or the tests.
 */
public final class Writes {
    public static final int PIECE_BYTES = 1 << 20;

    private Writes() {
    }

    public static void writeFully(WritableByteChannel out, ByteBuffer data) throws IOException {
        while (data.hasRemaining()) {
            out.write(data);
        }
    }
}
