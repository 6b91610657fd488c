package hotswap.cli;

import hotswap.wire.CopyRequest;
import hotswap.wire.PageHashes;
import hotswap.wire.Reads;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * A look, before a remote delta push, at how much of the live database the pushed file could
 * reuse. The client hashes up to {@value #PAGES} pages spread over its file; the relay, on the
 * app's machine, reads the live file's pages at the same places and counts those that match.
 * Where fewer than one in {@value #ONE_IN} match (a rebuilt or an unrelated database), the push
 * goes whole: a delta push first snapshots and hashes the whole live database, which then buys
 * nothing.
 *
 * <p>A hint, never a check: the relay reads the live file in a process of its own (so the app's
 * SQLite locks are untouched) without taking any lock, and pages still in the live database's WAL
 * are not seen. A wrong guess costs time, never correctness: what lands is checked as always.
 */
final class ReuseSample {
    /** The most pages sampled. */
    static final int PAGES = 32;
    /** A delta push is worth it when at least one sampled page in this many matches. */
    static final int ONE_IN = 8;
    /** Bytes of each sampled page's hash: enough for a hint. */
    static final int HASH_BYTES = 8;

    private ReuseSample() {
    }

    /**
     * The page numbers (from 0) sampled in a file of {@code count} pages: up to {@value #PAGES},
     * spread evenly from the second page to the last. The first is left out: its header stamps
     * differ between any two copies of a database.
     */
    static long[] pages(int count) {
        int n = Math.min(PAGES, Math.max(0, count - 1));
        long[] pages = new long[n];
        for (int i = 0; i < n; i++) {
            pages[i] = 1 + (long) i * (count - 1) / n;
        }
        return pages;
    }

    /** The client's sample of its file, {@link #HASH_BYTES} a page, in the order of {@link #pages}. */
    static byte[] of(FileChannel file, CopyRequest.Pages shape) throws IOException {
        long[] pages = pages(shape.count());
        byte[] sample = new byte[pages.length * HASH_BYTES];
        Hasher h = new Hasher(shape.pageSize());
        for (int i = 0; i < pages.length; i++) {
            if (!h.read(file, pages[i])) {
                throw new IOException("the file shrank while it was being read");
            }
            h.hashInto(sample, i * HASH_BYTES);
        }
        return sample;
    }

    /**
     * On the app's machine: whether a delta push of a file of {@code shape} onto {@code live} is
     * worth it by the client's {@code sample}, or at all (another page size). Says yes whenever it
     * cannot tell (no such regular file, no SQLite header, an unreadable file): the app then
     * decides as it always does.
     *
     * @return null for a delta push, else the note to give the user on going whole
     * @throws IllegalArgumentException when the sample does not fit the request's page count
     */
    static String wholeInstead(Path live, CopyRequest.Pages shape, byte[] sample) {
        long[] pages = pages(shape.count());
        if (sample.length != pages.length * HASH_BYTES) {
            throw new IllegalArgumentException("the sample holds " + sample.length + " bytes, not the " + pages.length * HASH_BYTES
                    + " its " + shape.count() + " pages make");
        }
        if (pages.length == 0 || !Files.isRegularFile(live)) { // a FIFO or a device would block the open or feed nonsense
            return null;
        }
        int matches = 0;
        try (FileChannel file = FileChannel.open(live, StandardOpenOption.READ)) {
            CopyRequest.Pages liveShape = PageHashes.shape(file);
            if (liveShape == null) {
                return null;
            }
            if (liveShape.pageSize() != shape.pageSize()) { // the app would snapshot its database only to find this out
                return "Note: " + live + " has " + liveShape.pageSize() + "-byte pages and the pushed file " + shape.pageSize()
                        + "-byte pages; copying the whole file";
            }
            Hasher h = new Hasher(shape.pageSize());
            byte[] mine = new byte[HASH_BYTES];
            for (int i = 0; i < pages.length; i++) {
                if (h.read(file, pages[i])) {
                    h.hashInto(mine, 0);
                    matches += Arrays.equals(mine, 0, HASH_BYTES, sample, i * HASH_BYTES, (i + 1) * HASH_BYTES) ? 1 : 0;
                }
            }
        } catch (IOException e) {
            return null;
        }
        if (matches * ONE_IN >= pages.length) {
            return null;
        }
        return "Note: " + matches + " of " + pages.length + " pages sampled from " + live + " match the pushed file; "
                + "copying the whole file (--delta compares every page anyway)";
    }

    /** Reads one page at a time and hashes it. */
    private static final class Hasher {
        private final ByteBuffer page;
        private final MessageDigest sha;

        Hasher(int pageSize) {
            page = ByteBuffer.allocate(pageSize);
            try {
                sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("this JDK has no SHA-256", e); // every Java SE platform must have it
            }
        }

        /** Reads page {@code n}; false when the file ends before it does. */
        boolean read(FileChannel file, long n) throws IOException {
            page.clear();
            return Reads.readFully(file, page, n * page.capacity());
        }

        void hashInto(byte[] into, int offset) {
            System.arraycopy(sha.digest(page.array()), 0, into, offset, HASH_BYTES);
        }
    }
}
