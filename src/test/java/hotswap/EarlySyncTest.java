package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hotswap.wire.EarlySync;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Flushing a file while it is written: the bytes stay as written, the thread ends, a failed flush is reported. */
class EarlySyncTest {
    private Path dir;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory("hs-early-sync-");
    }

    @AfterEach
    void tearDown() {
        Fixtures.deleteTree(dir);
    }

    private static boolean syncThreadAlive() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("hotswap-early-sync") && t.isAlive());
    }

    @Test
    void aFileWrittenPastSeveralStepsKeepsItsBytesAndTheThreadEndsOnClose() throws Exception {
        Path file = dir.resolve("grown");
        byte[] block = new byte[1 << 20];
        new Random(7).nextBytes(block);
        int blocks = (int) (3 * EarlySync.STEP / block.length) + 1;
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            try (EarlySync sync = EarlySync.start(out)) {
                for (int i = 0; i < blocks; i++) {
                    ByteBuffer b = ByteBuffer.wrap(block);
                    while (b.hasRemaining()) {
                        out.write(b);
                    }
                }
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
                while (sync.flushes() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                assertTrue(sync.flushes() > 0, "more than " + EarlySync.STEP + " bytes written and never flushed");
            }
            assertFalse(syncThreadAlive(), "close() returned while the flushing thread still ran");
            out.force(true);
        }
        byte[] all = Files.readAllBytes(file);
        for (int i = 0; i < blocks; i++) {
            assertArrayEquals(block, java.util.Arrays.copyOfRange(all, i * block.length, (i + 1) * block.length), "block " + i);
        }
    }

    @Test
    void aFlushThatFailsIsReportedByClose() throws Exception {
        Path file = dir.resolve("failing");
        FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        EarlySync sync = EarlySync.start(out);
        out.close(); // the next look at the file fails, as a flush on a failing disk would
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (syncThreadAlive() && System.nanoTime() < deadline) {
            Thread.sleep(1); // the failure ends the thread before anyone asks it to stop
        }
        assertFalse(syncThreadAlive(), "the flushing thread did not stop at the failure");
        IOException failure = assertThrows(IOException.class, sync::close);
        assertTrue(failure instanceof ClosedChannelException, "close() must report the flush's own error: " + failure);
    }
}
