package hotswap.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hotswap.wire.CopyRequest;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The sample of pages by which a remote push left to the default goes whole at once. */
class ReuseSampleTest {
    private static final int PAGE = 4096;
    private final Path dir;

    ReuseSampleTest() throws Exception {
        dir = Files.createTempDirectory("hs-sample-");
    }

    @AfterEach
    void tearDown() throws Exception {
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    @Test
    void theSampledPagesAreDistinctSpreadAndNeverTheFirst() {
        assertArrayEquals(new long[0], ReuseSample.pages(0));
        assertArrayEquals(new long[0], ReuseSample.pages(1));
        assertArrayEquals(new long[] {1}, ReuseSample.pages(2));
        long[] all = new long[32];
        for (int i = 0; i < 32; i++) {
            all[i] = i + 1;
        }
        assertArrayEquals(all, ReuseSample.pages(33));
        for (int count : new int[] {34, 1000, 261_486, Integer.MAX_VALUE}) {
            long[] pages = ReuseSample.pages(count);
            assertEquals(32, pages.length);
            assertEquals(1, pages[0]);
            for (int i = 1; i < pages.length; i++) {
                assertTrue(pages[i] > pages[i - 1], count + ": " + pages[i - 1] + ", " + pages[i]);
            }
            assertTrue(pages[31] < count && pages[31] >= count - count / 32 - 1, count + ": last " + pages[31]);
        }
    }

    @Test
    void aDeltaIsWorthItFromOneSampledPageInEightAlike() throws Exception {
        Random random = new Random(7);
        byte[][] live = randomPages(random, 1000);
        Path liveFile = write("live", live);
        long[] sampled = ReuseSample.pages(1000);
        for (int alike : new int[] {0, 3, 4, 32}) {
            // Every page differs but the first `alike` sampled ones.
            byte[][] pushed = randomPages(random, 1000);
            for (int i = 0; i < alike; i++) {
                pushed[(int) sampled[i]] = live[(int) sampled[i]];
            }
            String note = ReuseSample.wholeInstead(liveFile, new CopyRequest.Pages(PAGE, 1000), sampleOf(write("pushed" + alike, pushed)));
            if (alike * ReuseSample.ONE_IN >= 32) {
                assertNull(note, alike + " alike");
            } else {
                assertEquals("Note: " + alike + " of 32 pages sampled from " + liveFile + " match the pushed file; copying the whole file "
                        + "(--delta compares every page anyway)", note);
            }
        }
    }

    @Test
    void pagesPastTheEndOfTheLiveFileAreNotAlike() throws Exception {
        byte[][] pages = randomPages(new Random(8), 1000);
        Path pushed = write("pushed", pages);
        byte[][] shorter = java.util.Arrays.copyOf(pages, 90); // only the first 3 sampled pages are in it
        String note = ReuseSample.wholeInstead(write("live", shorter), new CopyRequest.Pages(PAGE, 1000), sampleOf(pushed));
        assertNotNull(note);
        assertTrue(note.startsWith("Note: 3 of 32 pages sampled"), note);
    }

    @Test
    void whereItCannotTellItLeavesTheDeltaToTheApp() throws Exception {
        byte[][] pages = randomPages(new Random(9), 100);
        byte[] sample = sampleOf(write("pushed", pages));
        CopyRequest.Pages shape = new CopyRequest.Pages(PAGE, 100);
        byte[][] unrelated = randomPages(new Random(10), 100);
        assertNotNull(ReuseSample.wholeInstead(write("unrelated", unrelated), shape, sample));
        assertNull(ReuseSample.wholeInstead(dir.resolve("missing"), shape, sample));
        assertNull(ReuseSample.wholeInstead(dir, shape, sample), "a directory");
        Path notSqlite = dir.resolve("text");
        Files.writeString(notSqlite, "x".repeat(PAGE * 100));
        assertNull(ReuseSample.wholeInstead(notSqlite, shape, sample));
        assertThrows(IllegalArgumentException.class, () -> ReuseSample.wholeInstead(write("live", pages), shape, new byte[8]));
    }

    @Test
    void anotherPageSizeGoesWholeAtOnceSayingSo() throws Exception {
        byte[][] pages = randomPages(new Random(11), 100);
        byte[] sample = sampleOf(write("pushed", pages));
        pages[0] = header(8192); // the same bytes after it: only the page size tells them apart
        Path live = write("other-page-size", pages);
        assertEquals("Note: " + live + " has 8192-byte pages and the pushed file 4096-byte pages; copying the whole file",
                ReuseSample.wholeInstead(live, new CopyRequest.Pages(PAGE, 100), sample));
    }

    private byte[] sampleOf(Path file) throws Exception {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            return ReuseSample.of(in, new CopyRequest.Pages(PAGE, (int) (Files.size(file) / PAGE)));
        }
    }

    /** {@code n} pages of random bytes, the first with a SQLite header of 4 KiB pages. */
    private static byte[][] randomPages(Random random, int n) {
        byte[][] pages = new byte[n][PAGE];
        for (byte[] page : pages) {
            random.nextBytes(page);
        }
        pages[0] = header(PAGE);
        return pages;
    }

    private static byte[] header(int pageSize) {
        byte[] first = new byte[PAGE];
        byte[] magic = "SQLite format 3\0".getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(magic, 0, first, 0, magic.length);
        ByteBuffer.wrap(first).putShort(16, (short) pageSize);
        return first;
    }

    private Path write(String name, byte[][] pages) throws Exception {
        Path file = dir.resolve(name);
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            for (byte[] page : pages) {
                out.write(ByteBuffer.wrap(page));
            }
        }
        return file;
    }
}
