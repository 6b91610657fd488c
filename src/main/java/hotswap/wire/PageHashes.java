package hotswap.wire;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.function.LongConsumer;

/**
 * The hash of every page of a database file: SHA-256 cut to {@value #BYTES} bytes, what the two
 * sides of a delta transfer compare to tell which pages differ. Runs of pages hash as the SHA-256
 * of their pages' hashes, so a run compares equal only when every page in it does.
 *
 * <p>Internal to hotswap: the client and the server share it; it is not part of the public API.
 */
public final class PageHashes {
    /** Bytes of one hash on the wire and in memory: 128 bits. */
    public static final int BYTES = 16;
    /**
     * The most pages a file may have for a delta transfer (256 GiB of 4 KiB pages): the largest
     * message of the exchange, a hash per page plus a bit per group, must fit in one buffer, whose
     * size is an int. A larger file goes whole; a larger count on the wire is malformed.
     */
    public static final int MAX_PAGES = 1 << 26;
    /**
     * Where the database header keeps its file change counter and its version-valid-for number,
     * four bytes each (fileformat2.html §1.3.7, §1.3.12).
     */
    public static final int[] STAMPS = {24, 92};
    private static final int READ_BYTES = 1 << 20;

    private final int pageSize;
    private final MessageDigest sha = sha256();
    private final byte[] digest = new byte[32];
    private byte[] hashes;
    private int pages;

    /** The hashes of a delta transfer do not fit in this JVM's heap: the copy goes no further. */
    public static final class OutOfMemory extends IOException {
        OutOfMemory(long pages) {
            super("the hashes of " + pages + " pages take " + (pages * BYTES >> 20) + " MiB, more memory than this JVM has ("
                    + (Runtime.getRuntime().maxMemory() >> 20) + " MiB at most)");
        }
    }

    private PageHashes(int pageSize, int pages) throws OutOfMemory {
        this.pageSize = pageSize;
        this.pages = pages;
        this.hashes = allocate(pages, null);
    }

    /** Room for the hashes of {@code pages} pages, with {@code from}'s at their start. */
    private static byte[] allocate(int pages, byte[] from) throws OutOfMemory {
        try {
            int bytes = Math.multiplyExact(pages, BYTES);
            return from == null ? new byte[bytes] : Arrays.copyOf(from, bytes);
        } catch (OutOfMemoryError e) {
            throw new OutOfMemory(pages);
        }
    }

    /**
     * Hashes the first {@code pages} pages of {@code file}, reading it once from the start.
     *
     * @param progress told the bytes read, as they are read
     * @param copy     where the bytes read are also written, from position 0, or null
     */
    public static PageHashes of(FileChannel file, int pageSize, int pages, LongConsumer progress, FileChannel copy)
            throws IOException {
        PageHashes h = new PageHashes(pageSize, pages);
        int perRead = Math.max(1, READ_BYTES / pageSize);
        ByteBuffer buffer = ByteBuffer.allocate(perRead * pageSize);
        for (int first = 0; first < pages; first += perRead) {
            int n = Math.min(perRead, pages - first);
            long at = (long) first * pageSize;
            buffer.clear().limit(n * pageSize);
            if (!Reads.readFully(file, buffer, at)) {
                throw new EOFException("the file shrank while it was being read");
            }
            for (int i = 0; i < n; i++) {
                h.hashPage(first + i, buffer.array(), i * pageSize);
            }
            if (copy != null) {
                Writes.writeFully(copy, buffer.flip(), at);
            }
            progress.accept((long) n * pageSize);
        }
        return h;
    }

    /**
     * The file's pages, by the page size its SQLite header gives, or null when it does not start
     * with a SQLite header or is not a whole number of such pages: then it has no pages to compare.
     */
    public static CopyRequest.Pages shape(FileChannel file) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(100);
        Reads.readFully(file, header, 0); // a shorter file is no database: checked below
        long size = file.size();
        if (header.hasRemaining() || !"SQLite format 3\0".equals(new String(header.array(), 0, 16, StandardCharsets.ISO_8859_1))) {
            return null;
        }
        int pageSize = header.getShort(16) & 0xffff;
        pageSize = pageSize == 1 ? 65536 : pageSize;
        if (pageSize < 512 || Integer.bitCount(pageSize) != 1 || size % pageSize != 0 || size / pageSize > MAX_PAGES) {
            return null;
        }
        return new CopyRequest.Pages(pageSize, (int) (size / pageSize));
    }

    /** Makes room for {@code n} pages; the hashes of pages added are zero, which no page has. */
    public void resize(int n) throws OutOfMemory {
        hashes = allocate(n, hashes);
        pages = n;
    }

    /**
     * Records the hash of page {@code page}, whose bytes are {@code data[offset, offset + pageSize)}.
     * The first page hashes without the header's {@link #STAMPS}: a copy made by SQLite's backup
     * writes its own there, so an unchanged database would otherwise always differ in its first
     * page. A delta transfer sends the sender's stamps on their own.
     */
    public void hashPage(int page, byte[] data, int offset) {
        if (page == 0) {
            byte[] first = Arrays.copyOfRange(data, offset, offset + pageSize);
            for (int at : STAMPS) {
                Arrays.fill(first, at, at + 4, (byte) 0);
            }
            sha.update(first);
        } else {
            sha.update(data, offset, pageSize);
        }
        finish(hashes, page * BYTES);
    }

    /** Appends the hash of pages {@code [from, to)} to {@code out}. */
    public void putRange(int from, int to, ByteBuffer out) {
        sha.update(hashes, from * BYTES, (to - from) * BYTES);
        finish(null, 0);
        out.put(digest, 0, BYTES);
    }

    /** Appends the hash of page {@code page} to {@code out}. */
    public void putPage(int page, ByteBuffer out) {
        out.put(hashes, page * BYTES, BYTES);
    }

    /** True when the hash of pages {@code [from, to)} equals the {@value #BYTES} bytes at {@code in}'s position, which it passes. */
    public boolean sameRange(int from, int to, ByteBuffer in) {
        sha.update(hashes, from * BYTES, (to - from) * BYTES);
        finish(null, 0);
        return equalsNext(digest, 0, in);
    }

    /** True when page {@code page}'s hash equals the {@value #BYTES} bytes at {@code in}'s position, which it passes. */
    public boolean samePage(int page, ByteBuffer in) {
        return equalsNext(hashes, page * BYTES, in);
    }

    /** The SHA-256 of all page hashes, in hex: equal for two files only when every page is. */
    public String root() {
        sha.update(hashes, 0, pages * BYTES);
        finish(null, 0);
        return java.util.HexFormat.of().formatHex(digest);
    }

    private void finish(byte[] into, int offset) {
        try {
            sha.digest(digest, 0, digest.length);
        } catch (java.security.DigestException e) {
            throw new IllegalStateException(e);
        }
        if (into != null) {
            System.arraycopy(digest, 0, into, offset, BYTES);
        }
    }

    private static boolean equalsNext(byte[] mine, int offset, ByteBuffer in) {
        boolean same = true;
        for (int i = 0; i < BYTES; i++) {
            same &= mine[offset + i] == in.get();
        }
        return same;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e); // every Java SE platform must have it
        }
    }
}
