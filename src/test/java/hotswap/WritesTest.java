package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hotswap.wire.Writes;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
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

    @Test
    void toAFileBytesLandInOrderAtTheirOffsets() throws Exception {
        byte[] frame = new byte[(1 << 20) + 12345];
        new Random(4).nextBytes(frame);
        Path file = Fixtures.tempDir().resolve("written");
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer pages = ByteBuffer.wrap(frame, 7, 70_000); // at an offset in the file, from an offset in the buffer
            Writes.writeFully(out, pages, 5000);
            assertEquals(70_007, pages.position(), "the position ends at the limit");
            assertEquals(70_007, pages.limit(), "the limit is as it was");
            out.position(5000 + 70_000);
            ByteBuffer rest = ByteBuffer.wrap(frame, 70_007, frame.length - 70_007);
            Writes.writeFully(out, rest);
            assertEquals(frame.length, rest.position());
            assertEquals(frame.length, rest.limit());
        }
        byte[] expected = new byte[5000 + frame.length - 7];
        System.arraycopy(frame, 7, expected, 5000, frame.length - 7);
        byte[] got = Files.readAllBytes(file);
        assertEquals(expected.length, got.length);
        assertTrue(Arrays.equals(expected, got), "the file holds the bytes at their offsets");
    }
}
