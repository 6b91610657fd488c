package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Freeing replaced files in the background: nameless at once, freed later, never shrunk under another name or reader. */
class ReclaimerTest {
    private Path dir;
    private final Reclaimer reclaimer = new Reclaimer();

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory("hs-reclaim-");
    }

    @AfterEach
    void tearDown() {
        reclaimer.close();
        Fixtures.deleteTree(dir);
    }

    /** A file of {@code slices} reclaim slices and a bit, so it takes several steps. */
    private Path bigFile(String name, double slices) throws IOException {
        Path file = dir.resolve(name);
        byte[] block = new byte[1 << 20];
        new Random(42).nextBytes(block);
        long size = (long) (slices * Reclaimer.SLICE);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long written = 0; written < size; ) {
                int n = (int) Math.min(block.length, size - written);
                written += ch.write(ByteBuffer.wrap(block, 0, n));
            }
        }
        return file;
    }

    private static byte[] digest(Path file) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
    }

    @Test
    void aReplacedFileLosesItsNameAtOnceAndItsLastDescriptorWhenItsFutureCompletes() throws Exception {
        Path file = bigFile(".db.hotswap-1.old", 2.5);
        Object inode = OpenHandles.inodeOf(file);
        Future<?> freed = reclaimer.reclaim(file);
        assertFalse(Files.exists(file), "the name must go before reclaim returns");
        assertFalse(freed.isDone(), "the blocks are freed in the background, after a pause for the released requests");
        assertEquals(1, OpenHandles.inThisProcess(inode), "the reclaimer holds the nameless file until it is shrunk");
        freed.get(30, TimeUnit.SECONDS);
        assertEquals(0, OpenHandles.inThisProcess(inode), "the nameless file is still open, so its blocks are not free");
    }

    @Test
    void finishReturnsOnlyWhenEverythingHandedOverIsGone() throws Exception {
        Path a = bigFile(".db.hotswap-a.old", 3.5);
        Path b = bigFile(".db.hotswap-b.old", 1.5);
        reclaimer.reclaim(a);
        reclaimer.reclaim(b);
        reclaimer.finish();
        assertFalse(Files.exists(a));
        assertFalse(Files.exists(b));
    }

    @Test
    void aFileWithAnotherNameLosesOnlyThisName() throws Exception {
        Path kept = bigFile("db.sqlite3.previous", 2.5);
        byte[] before = digest(kept);
        Path link = dir.resolve(".db.hotswap-2.old");
        Files.createLink(link, kept);
        reclaimer.reclaim(link).get(30, TimeUnit.SECONDS);
        assertFalse(Files.exists(link));
        assertArrayEquals(before, digest(kept), "the other name's data was shrunk");
    }

    @Test
    void aFileSomeoneStillReadsIsUnlinkedButNeverShrunk() throws Exception {
        Path file = bigFile(".db.hotswap-3.old", 2.5);
        long size = Files.size(file);
        byte[] before = digest(file);
        try (FileChannel reader = FileChannel.open(file, StandardOpenOption.READ)) {
            reclaimer.reclaim(file).get(30, TimeUnit.SECONDS);
            assertFalse(Files.exists(file));
            assertEquals(size, reader.size(), "the file was shrunk under its reader");
            ByteBuffer all = ByteBuffer.allocate((int) size);
            while (all.hasRemaining() && reader.read(all, all.position()) > 0) {
                // read it all through the open descriptor
            }
            assertArrayEquals(before, MessageDigest.getInstance("SHA-256").digest(all.array()));
        }
    }

    @Test
    void aFileAnotherProcessHasOpenIsNeverShrunkUnderIt() throws Exception {
        Path file = bigFile(".db.hotswap-5.old", 2.5);
        byte[] before = digest(file);
        Process reader = new ProcessBuilder("sh", "-c", "exec 3<\"$0\"; echo ready; exec sleep 60", file.toString())
                .redirectErrorStream(true).start();
        try {
            assertEquals("ready", new String(reader.getInputStream().readNBytes(5), java.nio.charset.StandardCharsets.US_ASCII));
            Path held = Path.of("/proc", Long.toString(reader.pid()), "fd", "3");
            reclaimer.reclaim(file).get(30, TimeUnit.SECONDS);
            assertFalse(Files.exists(file));
            assertTrue(Files.exists(held), "the other process lost its descriptor");
            assertArrayEquals(before, MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(held)),
                    "the file was shrunk under the other process");
        } finally {
            reader.destroyForcibly().waitFor();
        }
    }

    @Test
    void closeFreesWhatIsStillPendingBeforeItReturns() throws Exception {
        Path file = bigFile(".db.hotswap-6.old", 2.5);
        Object inode = OpenHandles.inodeOf(file);
        Future<?> freed = reclaimer.reclaim(file);
        reclaimer.close(); // as the app stops, with the file still waiting out the pause for released requests
        assertTrue(freed.isDone(), "close() returned with the replaced file still pending");
        assertEquals(0, OpenHandles.inThisProcess(inode), "close() left the nameless file open, its blocks in use");
    }

    @Test
    void afterCloseAFileIsRemovedAtOnce() throws Exception {
        reclaimer.close();
        Path file = bigFile(".db.hotswap-4.old", 1.5);
        reclaimer.reclaim(file).get(1, TimeUnit.SECONDS);
        assertFalse(Files.exists(file));
    }
}
