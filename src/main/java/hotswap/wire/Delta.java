package hotswap.wire;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.function.LongConsumer;
import java.util.zip.Inflater;

/**
 * A delta transfer: only the pages that differ between the side that has the old file (the
 * receiver: the app's live database for a push, the local destination for a pull) and the side
 * that has the new one (the sender) travel, found in two round trips of hashes ({@link PageHashes}).
 *
 * <ol>
 * <li>receiver → sender: the hash of each of at most {@value #MAX_RANGES} ranges of its pages;
 * <li>sender → receiver: a bit per range (1: differs), then the hash of each group of
 *     {@value #GROUP} pages in the ranges that differ;
 * <li>receiver → sender: a bit per group received (1: differs), then the hash of each page in
 *     the groups that differ;
 * <li>sender → receiver: the pages whose hashes differ and those the receiver lacks, in batches,
 *     each deflated when that makes it smaller; then the receiver checks that its rebuilt file
 *     hashes as the sender's does ({@link PageHashes#root}).
 * </ol>
 *
 * Both sides derive every range and group from the two page counts, so only hashes and bits
 * travel. Each message is a run of data frames ended by an empty one. An unchanged 1 GiB
 * database costs about 4 KB of hashes; 1% of its pages changed, scattered, about 0.08% of it.
 *
 * <p>Internal to hotswap: the client and the server share it; it is not part of the public API.
 */
public final class Delta {
    /** Pages per group, the second level of hashes. */
    static final int GROUP = 8;
    /** Most ranges of the first level: its message is at most 4 KiB. */
    static final int MAX_RANGES = 256;
    /** Raw page bytes in one batch frame, at most; a frame stays well under {@link Protocol#MAX_FRAME_BYTES}. */
    private static final int BATCH_BYTES = 256 << 10;
    private static final int ROOT_BYTES = 32;
    private static final byte RAW = 0;
    private static final byte DEFLATED = 1;

    /** Reading the sender's own file failed, as opposed to sending its pages. */
    public static final class ReadFailure extends IOException {
        public ReadFailure(String message) {
            super(message);
        }
    }

    /** Writing the receiver's own file failed (a full disk), as opposed to receiving the pages. */
    public static final class WriteFailure extends IOException {
        WriteFailure(IOException cause) {
            super(Failures.describe(cause), cause);
        }
    }

    /**
     * The rebuilt file does not hash as the sender's file did: every message was well formed, but
     * the pages sent are not the ones hashed (the sender's file changed meanwhile, or a bug).
     */
    public static final class RootMismatch extends ProtocolException {
        RootMismatch(String message) {
            super(message);
        }
    }

    /** Where one side reads the other's messages: the payload of the next data frame, empty at a message's end. */
    public interface Reader {
        ByteBuffer next() throws IOException;
    }

    private final int pageSize;
    private final int oldPages;
    private final int newPages;
    private final int common;
    private final int rangePages;
    private final Frames frames;
    private final Channel out;
    private final Reader in;
    /** The sender's groups sent in step 2, which step 4 reads the receiver's bits against. */
    private List<int[]> groups;

    /**
     * @param oldPages the receiver's page count
     * @param newPages the sender's page count
     * @param out      the data channel this side writes (DATA_IN from the client, DATA_OUT from the app)
     */
    public Delta(int pageSize, int oldPages, int newPages, Frames frames, Channel out, Reader in) {
        this.pageSize = pageSize;
        this.oldPages = oldPages;
        this.newPages = newPages;
        this.common = Math.min(oldPages, newPages);
        int perRange = (oldPages + MAX_RANGES - 1) / MAX_RANGES;
        this.rangePages = Math.max(GROUP, (perRange + GROUP - 1) / GROUP * GROUP);
        this.frames = frames;
        this.out = out;
        this.in = in;
    }

    private int ranges() {
        return (oldPages + rangePages - 1) / rangePages;
    }

    // ---- the receiver's steps --------------------------------------------------------------

    /** Step 1: the hashes of the receiver's ranges. */
    public void sendRanges(PageHashes old) throws IOException {
        ByteBuffer m = ByteBuffer.allocate(ranges() * PageHashes.BYTES);
        for (int r = 0; r < ranges(); r++) {
            old.putRange(r * rangePages, Math.min((r + 1) * rangePages, oldPages), m);
        }
        send(m);
    }

    /** Step 3: reads the sender's group hashes and answers with the hashes of the pages in the groups that differ. */
    public void answerGroups(PageHashes old) throws IOException {
        ByteBuffer m = receive(bitBytes(ranges()) + (long) groupsUpTo(common) * PageHashes.BYTES);
        BitSet differing = bits(m, ranges());
        List<int[]> groups = groupsOf(differing);
        expect(m, (long) groups.size() * PageHashes.BYTES);
        BitSet groupDiffers = new BitSet(groups.size());
        int pagesToSend = 0;
        for (int g = 0; g < groups.size(); g++) {
            int[] span = groups.get(g);
            if (!old.sameRange(span[0], span[1], m)) {
                groupDiffers.set(g);
                pagesToSend += span[1] - span[0];
            }
        }
        ByteBuffer answer = ByteBuffer.allocate(bitBytes(groups.size()) + pagesToSend * PageHashes.BYTES);
        putBits(answer, groupDiffers, groups.size());
        for (int g = groupDiffers.nextSetBit(0); g >= 0; g = groupDiffers.nextSetBit(g + 1)) {
            for (int p = groups.get(g)[0]; p < groups.get(g)[1]; p++) {
                old.putPage(p, answer);
            }
        }
        send(answer);
    }

    /**
     * Step 4, receiving: writes the pages that arrive into {@code file} (a copy of the old one),
     * cuts it to the new page count, and checks that it now hashes as the sender's file does.
     *
     * @param announced told how many pages the sender says will come, before they do
     * @return how many pages arrived
     * @throws ProtocolException when what arrived does not rebuild the sender's file
     */
    public long receivePages(PageHashes old, FileChannel file, LongConsumer announced, LongConsumer progress) throws IOException {
        ByteBuffer header = in.next();
        if (header.remaining() != 8 + ROOT_BYTES + 4 * PageHashes.STAMPS.length) {
            throw new ProtocolException("malformed page announcement");
        }
        long count = header.getLong();
        announced.accept(count);
        byte[] rootBytes = new byte[ROOT_BYTES];
        header.get(rootBytes);
        String root = java.util.HexFormat.of().formatHex(rootBytes);
        byte[] stamps = new byte[4 * PageHashes.STAMPS.length];
        header.get(stamps);
        old.resize(newPages);
        BitSet seen;
        try {
            seen = new BitSet(newPages);
        } catch (OutOfMemoryError e) {
            throw new PageHashes.OutOfMemory(newPages);
        }
        long received = 0;
        byte[] pages = new byte[BATCH_BYTES + pageSize];
        Inflater inflater = new Inflater();
        try {
            for (ByteBuffer batch = in.next(); batch.hasRemaining(); batch = in.next()) {
                if (batch.remaining() < 5) {
                    throw new ProtocolException("malformed page batch");
                }
                byte method = batch.get();
                int n = batch.getInt();
                if (n < 1 || (long) n * pageSize > Math.max(BATCH_BYTES, pageSize) || batch.remaining() < 4L * n) {
                    throw new ProtocolException("malformed page batch of " + n + " pages");
                }
                int[] index = new int[n];
                for (int i = 0; i < n; i++) {
                    index[i] = batch.getInt();
                    if (index[i] < 0 || index[i] >= newPages) {
                        throw new ProtocolException("page " + index[i] + " is outside the new file's " + newPages + " pages");
                    }
                }
                int bytes = n * pageSize;
                if (method == RAW) {
                    if (batch.remaining() != bytes) {
                        throw new ProtocolException("page batch of " + batch.remaining() + " bytes, expected " + bytes);
                    }
                    batch.get(pages, 0, bytes);
                } else if (method == DEFLATED) {
                    Packer.inflate(inflater, batch, pages, bytes, "page batch");
                } else {
                    throw new ProtocolException("unknown page batch encoding " + method);
                }
                for (int i = 0; i < n; i++) {
                    old.hashPage(index[i], pages, i * pageSize);
                    write(file, ByteBuffer.wrap(pages, i * pageSize, pageSize), (long) index[i] * pageSize);
                    seen.set(index[i]);
                }
                received += n;
                progress.accept(bytes);
            }
        } finally {
            inflater.end();
        }
        if (received != count) {
            throw new ProtocolException(received + " pages arrived, " + count + " announced");
        }
        // A page past the old end that never arrived keeps the hash of none, sixteen zero bytes: a root over
        // those is no proof, since anyone can hash them. Every such page must have come.
        int missing = seen.nextClearBit(common);
        if (missing < newPages) {
            throw new ProtocolException("page " + missing + " of the new file's " + newPages + " never arrived");
        }
        try {
            if (file.size() > (long) newPages * pageSize) {
                file.truncate((long) newPages * pageSize);
            }
        } catch (IOException e) {
            throw new WriteFailure(e);
        }
        if (newPages > 0) { // the header's stamps, which the hashes leave out
            for (int i = 0; i < PageHashes.STAMPS.length; i++) {
                write(file, ByteBuffer.wrap(stamps, 4 * i, 4), PageHashes.STAMPS[i]);
            }
        }
        if (!old.root().equals(root)) {
            throw new RootMismatch("the rebuilt file does not hash as the sender's: " + (newPages - common > seen.cardinality()
                    ? "pages past the old end are missing" : "a page differs"));
        }
        return received;
    }

    private static void write(FileChannel file, ByteBuffer bytes, long at) throws WriteFailure {
        try {
            Writes.writeFully(file, bytes, at);
        } catch (IOException e) {
            throw new WriteFailure(e);
        }
    }

    // ---- the sender's steps ----------------------------------------------------------------

    /** Step 2: reads the receiver's range hashes and answers with the hashes of the groups in the ranges that differ. */
    public void answerRanges(PageHashes mine) throws IOException {
        ByteBuffer m = receive((long) ranges() * PageHashes.BYTES);
        expect(m, (long) ranges() * PageHashes.BYTES);
        BitSet differing = new BitSet(ranges());
        for (int r = 0; r < ranges(); r++) {
            int end = Math.min((r + 1) * rangePages, oldPages);
            if (end > newPages) { // this side lacks some of the range's pages: it differs
                m.position(m.position() + PageHashes.BYTES);
                differing.set(r);
            } else if (!mine.sameRange(r * rangePages, end, m)) {
                differing.set(r);
            }
        }
        List<int[]> groups = groupsOf(differing);
        ByteBuffer answer = ByteBuffer.allocate(bitBytes(ranges()) + groups.size() * PageHashes.BYTES);
        putBits(answer, differing, ranges());
        for (int[] g : groups) {
            mine.putRange(g[0], g[1], answer);
        }
        send(answer);
        this.groups = groups;
    }

    /**
     * Step 4, deciding: reads the receiver's page hashes and returns the pages it must be sent:
     * those whose hashes differ, and those past its end.
     */
    public BitSet changedPages(PageHashes mine) throws IOException {
        ByteBuffer m = receive(bitBytes(groups.size()) + (long) common * PageHashes.BYTES);
        BitSet groupDiffers = bits(m, groups.size());
        BitSet changed = new BitSet(newPages);
        long pages = 0;
        for (int g = groupDiffers.nextSetBit(0); g >= 0; g = groupDiffers.nextSetBit(g + 1)) {
            pages += groups.get(g)[1] - groups.get(g)[0];
        }
        expect(m, pages * PageHashes.BYTES);
        for (int g = groupDiffers.nextSetBit(0); g >= 0; g = groupDiffers.nextSetBit(g + 1)) {
            for (int p = groups.get(g)[0]; p < groups.get(g)[1]; p++) {
                if (!mine.samePage(p, m)) {
                    changed.set(p);
                }
            }
        }
        changed.set(common, newPages);
        return changed;
    }

    /**
     * Step 4, sending: how many pages come, the hash of the whole file ({@link PageHashes#root}) and
     * the header's {@link PageHashes#STAMPS}, then the changed pages of {@code file}, in batches, each deflated when {@code compress} and
     * that makes it smaller.
     */
    public void sendPages(FileChannel file, BitSet changed, String root, boolean compress, LongConsumer progress) throws IOException {
        ByteBuffer announcement = ByteBuffer.allocate(8 + ROOT_BYTES + 4 * PageHashes.STAMPS.length);
        announcement.putLong(changed.cardinality()).put(java.util.HexFormat.of().parseHex(root));
        for (int at : PageHashes.STAMPS) {
            ByteBuffer stamp = announcement.slice(announcement.position(), 4);
            if (newPages > 0) {
                readAt(file, stamp, at); // the sender's own stamp; zeros for an empty file, which has none
            }
            announcement.position(announcement.position() + 4);
        }
        frames.write(out, announcement.flip());
        int perBatch = Math.max(1, BATCH_BYTES / pageSize);
        byte[] raw = new byte[perBatch * pageSize];
        int[] index = new int[perBatch];
        try (Packer packer = new Packer(compress, raw.length)) {
            int p = changed.nextSetBit(0);
            while (p >= 0) {
                int n = 0;
                while (p >= 0 && n < perBatch) {
                    index[n++] = p;
                    p = changed.nextSetBit(p + 1);
                }
                readPages(file, index, n, raw);
                int bytes = n * pageSize;
                int packedBytes = packer.pack(raw, bytes);
                boolean deflated = packedBytes > 0;
                ByteBuffer batch = ByteBuffer.allocate(5 + 4 * n + (deflated ? packedBytes : bytes));
                batch.put(deflated ? DEFLATED : RAW).putInt(n);
                for (int i = 0; i < n; i++) {
                    batch.putInt(index[i]);
                }
                batch.put(deflated ? packer.packed() : raw, 0, deflated ? packedBytes : bytes);
                long t = System.nanoTime();
                frames.write(out, batch.flip());
                packer.wrote(System.nanoTime() - t, batch.limit());
                progress.accept(bytes);
            }
            frames.writeEnd(out);
        }
    }

    /** Reads pages {@code index[0, n)}, in ascending order, into {@code into}: a run of neighbours in one read. */
    private void readPages(FileChannel file, int[] index, int n, byte[] into) throws IOException {
        int i = 0;
        while (i < n) {
            int run = 1;
            while (i + run < n && index[i + run] == index[i] + run) {
                run++;
            }
            readAt(file, ByteBuffer.wrap(into, i * pageSize, run * pageSize), (long) index[i] * pageSize);
            i += run;
        }
    }

    /**
     * Fills {@code into} from {@code at}. Any failure is the sender's own, a {@link ReadFailure}: left
     * to pass as a broken connection, it would leave a frame unsent that the far side waits for.
     */
    private static void readAt(FileChannel file, ByteBuffer into, long at) throws ReadFailure {
        boolean whole;
        try {
            whole = Reads.readFully(file, into, at);
        } catch (IOException e) {
            throw new ReadFailure(Failures.describe(e));
        }
        if (!whole) {
            throw new ReadFailure("it shrank while its pages were being sent");
        }
    }

    // ---- shapes and messages ---------------------------------------------------------------

    /** The groups, as [first, end) page spans clipped to the pages both files have, of the ranges set in {@code ranges}. */
    private List<int[]> groupsOf(BitSet ranges) {
        List<int[]> groups = new ArrayList<>();
        for (int r = ranges.nextSetBit(0); r >= 0; r = ranges.nextSetBit(r + 1)) {
            int end = Math.min((r + 1) * rangePages, common);
            for (int g = r * rangePages; g < end; g += GROUP) {
                groups.add(new int[] {g, Math.min(g + GROUP, end)});
            }
        }
        return groups;
    }

    private static int groupsUpTo(int pages) {
        return (pages + GROUP - 1) / GROUP;
    }

    private static int bitBytes(int bits) {
        return (bits + 7) / 8;
    }

    private static void putBits(ByteBuffer m, BitSet bits, int count) {
        byte[] b = new byte[bitBytes(count)];
        byte[] set = bits.toByteArray();
        System.arraycopy(set, 0, b, 0, set.length);
        m.put(b);
    }

    private static BitSet bits(ByteBuffer m, int count) throws ProtocolException {
        if (m.remaining() < bitBytes(count)) {
            throw new ProtocolException("delta message too short");
        }
        byte[] b = new byte[bitBytes(count)];
        m.get(b);
        BitSet bits = BitSet.valueOf(b);
        if (bits.length() > count) {
            throw new ProtocolException("delta message sets bits past its end");
        }
        return bits;
    }

    private static void expect(ByteBuffer m, long bytes) throws ProtocolException {
        if (m.remaining() != bytes) {
            throw new ProtocolException("delta message of the wrong size: " + m.remaining() + " bytes left, expected " + bytes);
        }
    }

    private void send(ByteBuffer m) throws IOException {
        m.flip();
        while (m.hasRemaining()) {
            ByteBuffer piece = m.slice(m.position(), Math.min(m.remaining(), Protocol.DATA_CHUNK_BYTES));
            frames.write(out, piece);
            m.position(m.position() + piece.limit());
        }
        frames.writeEnd(out);
    }

    /** Reads one message of at most {@code max} bytes. */
    private ByteBuffer receive(long max) throws IOException {
        if (max > Integer.MAX_VALUE - 16) {
            throw new ProtocolException("delta message too large");
        }
        ByteBuffer m = ByteBuffer.allocate((int) max);
        for (ByteBuffer piece = in.next(); piece.hasRemaining(); piece = in.next()) {
            if (piece.remaining() > m.remaining()) {
                throw new ProtocolException("delta message longer than " + max + " bytes");
            }
            m.put(piece);
        }
        return m.flip();
    }
}
