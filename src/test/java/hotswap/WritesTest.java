package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hotswap.wire.Writes;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Database bytes go to files all of them, in order, even through a channel that takes fewer than offered. */
class WritesTest {
    /** A channel that takes at most {@code most} bytes a call, as a pipe or a full disk may, and keeps every call's size. */
    private static final class ShortWrites implements WritableByteChannel {
        final ByteArrayOutputStream taken = new ByteArrayOutputStream();
        final List<Integer> offered = new ArrayList<>();
        final int most;

        ShortWrites(int most) {
            this.most = most;
        }

        @Override
        public int write(ByteBuffer src) {
            offered.add(src.remaining());
            int n = Math.min(most, src.remaining());
            byte[] b = new byte[n];
            src.get(b);
            taken.write(b, 0, n);
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aFrameIsWrittenWholeAndInOrderThroughShortWrites() throws Exception {
        byte[] frame = new byte[(1 << 20) + 12345];
        new Random(3).nextBytes(frame);
        ByteBuffer data = ByteBuffer.allocateDirect(frame.length + 100);
        data.position(100);
        data.put(frame);
        data.position(100).limit(100 + frame.length);
        ShortWrites out = new ShortWrites(100_000);

        Writes.writeFully(out, data);

        assertArrayEquals(frame, out.taken.toByteArray());
        assertEquals(100 + frame.length, data.position(), "the position ends at the limit");
        assertEquals(100 + frame.length, data.limit(), "the limit is as it was");
        assertTrue(out.offered.size() > 1, "the channel took it in more than one call: " + out.offered);
    }
}
