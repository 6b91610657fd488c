package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hotswap.wire.Channel;
import hotswap.wire.Delta;
import hotswap.wire.Frames;
import hotswap.wire.PageHashes;
import hotswap.wire.ProtocolException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.Pipe;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The delta exchange between two ends of real pipes, on files of pages: the receiver's file ends
 * byte-identical to the sender's whatever changed, and only the hashes and the changed pages travel.
 */
class DeltaWireTest {
    private static final int PAGE = 4096;

    @TempDir
    Path dir;

    /** What one exchange did: the receiver's file afterwards, and the bytes each way. */
    record Outcome(byte[] result, long toSender, long toReceiver, int pagesSent) {
    }

    @Test
    void anUnchangedFileCostsAFewKilobytesAndStaysTheSame() throws Exception {
        byte[] file = pages(8192, 1); // 32 MiB
        Outcome o = exchange(file, file.clone(), false, null);
        assertArrayEquals(file, o.result());
        assertEquals(0, o.pagesSent());
        assertTrue(o.toSender() + o.toReceiver() <= 8 * 1024, "bytes on the wire: " + (o.toSender() + o.toReceiver()));
    }

    @Test
    void filesThatDifferOnlyInTheHeadersStampsMoveNoPageAndEndIdentical() throws Exception {
        // SQLite's backup writes its own file change counter (bytes 24-27) and version-valid-for (92-95).
        byte[] old = pages(300, 7);
        byte[] stamped = old.clone();
        for (int at : new int[] {24, 25, 26, 27, 92, 93, 94, 95}) {
            stamped[at] ^= (byte) 0x5a;
        }
        Outcome o = exchange(old, stamped, false, null);
        assertArrayEquals(stamped, o.result());
        assertEquals(0, o.pagesSent());
    }

    @Test
    void onePercentOfPagesScatteredTravelsAsLittleMoreThanThosePages() throws Exception {
        int pages = 16384; // 64 MiB
        byte[] old = pages(pages, 2);
        byte[] changed = old.clone();
        Random random = new Random(5);
        BitSet touched = new BitSet();
        while (touched.cardinality() < pages / 100) {
            int p = random.nextInt(pages);
            touched.set(p);
            changed[p * PAGE + random.nextInt(PAGE)] ^= 1;
        }
        Outcome o = exchange(old, changed, false, null);
        assertArrayEquals(changed, o.result());
        assertEquals(touched.cardinality(), o.pagesSent());
        double share = (double) (o.toSender() + o.toReceiver()) / changed.length;
        assertTrue(share <= 0.0110, "share of the file on the wire: " + share);
    }

    @Test
    void aLongerOrShorterOrEmptyOldFileEndsAsTheNewOne() throws Exception {
        byte[] base = pages(3000, 3);
        byte[] longer = java.util.Arrays.copyOf(base, base.length + 77 * PAGE);
        System.arraycopy(pages(77, 9), 0, longer, base.length, 77 * PAGE);
        byte[] shorter = java.util.Arrays.copyOf(base, 1234 * PAGE);

        assertArrayEquals(longer, exchange(base, longer, false, null).result());
        assertArrayEquals(shorter, exchange(base, shorter, false, null).result());
        assertArrayEquals(base, exchange(new byte[0], base, false, null).result());
        assertArrayEquals(new byte[0], exchange(base, new byte[0], false, null).result());
        Outcome grown = exchange(shorter, base, false, null);
        assertEquals(3000 - 1234, grown.pagesSent());
    }

    @Test
    void deflatedPagesArriveTheSameAndSmaller() throws Exception {
        byte[] old = text(4096);
        byte[] changed = old.clone();
        for (int p = 0; p < 4096; p += 50) {
            changed[p * PAGE + 100] = 'X';
        }
        Outcome plain = exchange(old, changed, false, null);
        Outcome deflated = exchange(old, changed, true, null);
        assertArrayEquals(changed, deflated.result());
        assertTrue(deflated.toReceiver() < plain.toReceiver() / 2, plain.toReceiver() + " vs " + deflated.toReceiver());
    }

    @Test
    void theFirstBatchesAreDeflatedWhateverTheLinkSeemsBehindItsBuffers() throws Exception {
        // 20 batches of compressible pages to a link that takes every write at once, as a slow ssh link does until
        // the buffers in front of it fill: it only seems fast, so the first batches are deflated all the same.
        Path file = dir.resolve("text");
        Files.write(file, text(20 * 64 + 1));
        BitSet all = new BitSet();
        all.set(1, 20 * 64 + 1);
        long[] sent = new long[2];
        for (int compress = 0; compress < 2; compress++) {
            int at = compress;
            OutputStream link = new OutputStream() {
                @Override
                public void write(int b) {
                    sent[at]++;
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    sent[at] += len;
                }
            };
            try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
                Frames frames = new Frames(Channels.newChannel(InputStream.nullInputStream()), Channels.newChannel(link));
                new Delta(PAGE, 0, 20 * 64 + 1, frames, Channel.DATA_OUT, null).sendPages(in, all, "0".repeat(64), compress == 1, n -> { });
            }
        }
        assertTrue(sent[1] < sent[0] / 4, "deflated " + sent[1] + " of " + sent[0] + " bytes");
    }

    /**
     * A sender whose own file fails to read (a disk error) says so as its own failure, a
     * ReadFailure, even on its first read, its stamps: taken for a broken link, it left its caller
     * waiting for the far side, which waited for the frame it never sent.
     */
    @Test
    void aSendersFileThatFailsToReadIsTheSendersOwnFailure() throws Exception {
        Path failing = Fixtures.unreadableFile();
        try (FileChannel in = FileChannel.open(failing, StandardOpenOption.READ)) {
            Frames frames = new Frames(Channels.newChannel(InputStream.nullInputStream()), Channels.newChannel(OutputStream.nullOutputStream()));
            Delta.ReadFailure e = assertThrows(Delta.ReadFailure.class,
                    () -> new Delta(PAGE, 0, 1, frames, Channel.DATA_OUT, null).sendPages(in, new BitSet(), "0".repeat(64), false, n -> { }));
            assertTrue(e.getMessage().contains("Input/output error"), e.getMessage());
        }
    }

    @Test
    void pagesThatDoNotRebuildTheSendersFileAreRefused() throws Exception {
        byte[] old = pages(500, 6);
        byte[] changed = old.clone();
        changed[10 * PAGE] ^= 1;
        ProtocolException e = assertThrows(ProtocolException.class, () -> exchange(old, changed, false, "0".repeat(64)));
        assertTrue(e.getMessage().contains("does not hash as the sender's"), e.getMessage());
    }

    // ---- the exchange, as both sides run it --------------------------------------------------

    private Outcome exchange(byte[] oldBytes, byte[] newBytes, boolean compress, String forgedRoot) throws Exception {
        Path old = dir.resolve("old-" + System.nanoTime());
        Path fresh = dir.resolve("new-" + System.nanoTime());
        Files.write(old, oldBytes);
        Files.write(fresh, newBytes);
        int oldPages = oldBytes.length / PAGE;
        int newPages = newBytes.length / PAGE;
        Pipe toSender = Pipe.open();
        Pipe toReceiver = Pipe.open();
        AtomicLong senderGot = new AtomicLong();
        AtomicLong receiverGot = new AtomicLong();
        Frames receiverFrames = new Frames(counting(toReceiver.source(), receiverGot), toSender.sink());
        Frames senderFrames = new Frames(counting(toSender.source(), senderGot), toReceiver.sink());
        int[] sent = new int[1];
        CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
            try (FileChannel in = FileChannel.open(fresh, StandardOpenOption.READ)) {
                PageHashes mine = PageHashes.of(in, PAGE, newPages, n -> { }, null);
                Delta d = new Delta(PAGE, oldPages, newPages, senderFrames, Channel.DATA_OUT, reader(senderFrames));
                d.answerRanges(mine);
                BitSet changed = d.changedPages(mine);
                sent[0] = changed.cardinality();
                d.sendPages(in, changed, forgedRoot != null ? forgedRoot : mine.root(), compress, n -> { });
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, Fixtures.CONCURRENTLY);
        try (FileChannel file = FileChannel.open(old, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            PageHashes mine = PageHashes.of(file, PAGE, oldPages, n -> { }, null);
            Delta d = new Delta(PAGE, oldPages, newPages, receiverFrames, Channel.DATA_IN, reader(receiverFrames));
            d.sendRanges(mine);
            d.answerGroups(mine);
            d.receivePages(mine, file, n -> { }, n -> { });
        } finally {
            toSender.sink().close();
            toReceiver.source().close();
        }
        sender.get(60, TimeUnit.SECONDS);
        return new Outcome(Files.readAllBytes(old), senderGot.get(), receiverGot.get(), sent[0]);
    }

    private static Delta.Reader reader(Frames frames) {
        return () -> {
            Frames.Frame f = frames.read();
            if (f == null) {
                throw new java.io.EOFException("the other side hung up");
            }
            return f.payload();
        };
    }

    private static ReadableByteChannel counting(ReadableByteChannel in, AtomicLong count) {
        return new ReadableByteChannel() {
            @Override
            public int read(ByteBuffer dst) throws IOException {
                int n = in.read(dst);
                count.addAndGet(Math.max(n, 0));
                return n;
            }

            @Override
            public boolean isOpen() {
                return in.isOpen();
            }

            @Override
            public void close() throws IOException {
                in.close();
            }
        };
    }

    private static byte[] pages(int n, long seed) {
        byte[] b = new byte[n * PAGE];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] text(int n) {
        byte[] b = new byte[n * PAGE];
        String words = "the quick brown fox jumps over the lazy dog while hotswap moves pages ";
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) words.charAt((i * 7 + i / 4096) % words.length());
        }
        return b;
    }
}
