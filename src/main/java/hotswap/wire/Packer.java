package hotswap.wire;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * Deflates a sender's chunks of database bytes (level 1) where that pays: where it shrinks a
 * chunk by at least 1/16, and deflating has so far taken less time than the bytes it saved take
 * on the link, which a fast link or data that does not shrink does not allow. The first 16 chunks
 * are tried regardless: the first writes land in the buffers in front of the link (socket,
 * pipes, ssh), which take them at once, so a slow link would look fast; after that, every 16th,
 * so the measure follows the data and the link. A chunk whose first 64 KiB do not shrink is sent
 * as it is, so data that does not shrink costs little to try. Used for a delta transfer's page
 * batches and the whole file of a remote push or pull. Not thread-safe: one sender's.
 */
public final class Packer implements AutoCloseable {
    private static final int PROBE_BYTES = 64 << 10;
    private final Deflater deflater;
    private final byte[] packed;
    private long chunks;
    private long deflateNanos;
    private long savedBytes;
    private long writeNanos;
    private long writtenBytes;

    /** A packer for chunks of at most {@code maxChunk} bytes; {@code on} false: one that never deflates. */
    public Packer(boolean on, int maxChunk) {
        this.deflater = on ? new Deflater(Deflater.BEST_SPEED) : null;
        this.packed = on ? new byte[maxChunk] : null;
    }

    /**
     * Deflates {@code raw[0, n)} if that pays.
     *
     * @return how many bytes of {@link #packed()} hold it deflated, or -1: send it as it is
     */
    public int pack(byte[] raw, int n) {
        if (deflater == null || !worthTrying()) {
            return -1;
        }
        long t = System.nanoTime();
        // A chunk's first 64 KiB tell most of whether it shrinks, at a sixteenth of the cost for data that does not.
        int k = n > PROBE_BYTES && deflate(raw, PROBE_BYTES) < 0 ? -1 : deflate(raw, n);
        deflateNanos += System.nanoTime() - t;
        savedBytes += k > 0 ? n - k : 0;
        return k;
    }

    /** Deflates {@code raw[0, n)} into {@link #packed}: its length, or -1 if it does not shrink by 1/16. */
    private int deflate(byte[] raw, int n) {
        deflater.reset();
        deflater.setInput(raw, 0, n);
        deflater.finish();
        int k = deflater.deflate(packed, 0, n - n / 16);
        return deflater.finished() && k > 0 && k < n - n / 16 ? k : -1;
    }

    /** The deflated bytes of the last {@link #pack} that returned a length. */
    public byte[] packed() {
        return packed;
    }

    /** Tells how long writing a chunk of {@code bytes} to the link took: the link's speed, as deflating sees it. */
    public void wrote(long nanos, int bytes) {
        writeNanos += nanos;
        writtenBytes += bytes;
    }

    private boolean worthTrying() {
        long n = chunks++;
        return n < 16 || n % 16 == 0 || deflateNanos * (double) writtenBytes < savedBytes * (double) writeNanos;
    }

    @Override
    public void close() {
        if (deflater != null) {
            deflater.end();
        }
    }

    /**
     * Sends {@code raw[0, n)} as one frame: on {@code deflated} if that pays (the chunk's length,
     * then the chunk deflated), else as it is on {@code plain}; and times the write for the next.
     */
    public void send(Frames frames, Channel plain, Channel deflated, byte[] raw, int n) throws IOException {
        int k = pack(raw, n);
        ByteBuffer frame = k > 0 ? ByteBuffer.allocate(4 + k).putInt(n).put(packed, 0, k).flip() : ByteBuffer.wrap(raw, 0, n);
        long t = System.nanoTime();
        frames.write(k > 0 ? deflated : plain, frame);
        wrote(System.nanoTime() - t, frame.limit());
    }

    /**
     * The receiving end of {@link #send}: inflates deflated chunks of at most a given size. Its
     * buffer and inflater come with the first chunk, so a copy that gets none costs nothing.
     */
    public static final class Unpacker implements AutoCloseable {
        private final int maxChunk;
        private byte[] chunk;
        private Inflater inflater;

        public Unpacker(int maxChunk) {
            this.maxChunk = maxChunk;
        }

        /**
         * Inflates a deflated chunk's frame payload: its length first, 1 to the most this takes,
         * then the chunk deflated, and nothing after it.
         *
         * @return the chunk, in a buffer the next call reuses
         */
        public ByteBuffer inflate(ByteBuffer payload) throws ProtocolException {
            int length = payload.remaining() < 4 ? -1 : payload.getInt();
            if (length < 1 || length > maxChunk) {
                throw new ProtocolException("a deflated chunk announces " + length + " bytes, not 1 to " + maxChunk);
            }
            if (inflater == null) {
                chunk = new byte[maxChunk];
                inflater = new Inflater();
            }
            Packer.inflate(inflater, payload, chunk, length, "chunk");
            return ByteBuffer.wrap(chunk, 0, length);
        }

        @Override
        public void close() {
            if (inflater != null) {
                inflater.end();
            }
        }
    }

    /**
     * Inflates all of {@code from} into {@code into[0, bytes)}: it must hold exactly that many
     * bytes, deflated, and nothing after them.
     *
     * @param what what the data is, for the message should it not fit
     */
    public static void inflate(Inflater inflater, ByteBuffer from, byte[] into, int bytes, String what) throws ProtocolException {
        inflater.reset();
        inflater.setInput(from);
        try {
            int n = inflater.inflate(into, 0, bytes);
            if (n != bytes || !inflater.finished() || from.hasRemaining()) {
                throw new ProtocolException("a deflated " + what + " does not hold the " + bytes + " bytes it announces");
            }
        } catch (DataFormatException e) {
            throw new ProtocolException("a deflated " + what + " is damaged: " + e.getMessage());
        }
    }
}
