package hotswap.wire;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * Reads and writes frames on one socket, or on a pair of pipes (a remote command's stdin and
 * stdout): a one-byte {@link Channel} tag, a four-byte big-endian payload length, then the
 * payload. Every stream the two sides exchange (control messages, database bytes in each
 * direction, text for the user's stdout and stderr, the exit status) travels as frames, so status
 * text can never mix with binary database bytes.
 *
 * <p>Internal to hotswap: the client and the server share it; it is not part of the public API.
 */
public final class Frames {
    /** Header size: channel tag plus length. */
    public static final int HEADER_BYTES = 5;

    private final ReadableByteChannel in;
    private final WritableByteChannel out;
    private final ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
    private final ByteBuffer outHeader = ByteBuffer.allocate(HEADER_BYTES);
    private final Object writeLock = new Object();
    private volatile long readingSinceNanos;
    private volatile long writeStalledSinceNanos;
    /** Writes go out in slices of this size, so a client that reads slowly but steadily shows progress. */
    private static final int WRITE_SLICE_BYTES = Protocol.PULL_CHUNK_BYTES;

    public Frames(SocketChannel socket) {
        this(socket, socket);
    }

    /** Frames read from {@code in} and written to {@code out}, each read or write whole: neither side buffers. */
    public Frames(ReadableByteChannel in, WritableByteChannel out) {
        this.in = in;
        this.out = out;
    }

    /**
     * A received frame. The payload buffer is reused by the next {@link #read} call. A frame of
     * database bytes ({@link Channel#DATA_IN}, {@link Channel#DATA_OUT}) has a direct buffer, with no
     * array: it goes from the socket to a file or to stdout without a copy through the Java heap.
     */
    public record Frame(Channel channel, ByteBuffer payload) {
        public String text() {
            return StandardCharsets.UTF_8.decode(payload.duplicate()).toString();
        }

        public boolean isEndOfStream() {
            return !payload.hasRemaining();
        }
    }

    private ByteBuffer payload = ByteBuffer.allocate(64 * 1024);
    /** For database bytes; made on the first such frame. */
    private ByteBuffer dataPayload;

    /**
     * Reads the next frame, or returns null when the peer closed the connection cleanly between
     * frames. While it waits, {@link #readingSinceNanos()} says since when.
     *
     * @throws ProtocolException for an unknown channel or a length over {@link Protocol#MAX_FRAME_BYTES}
     * @throws EOFException when the connection ends inside a frame
     */
    public Frame read() throws IOException {
        readingSinceNanos = System.nanoTime();
        try {
            return readFrame();
        } finally {
            readingSinceNanos = 0;
        }
    }

    /**
     * Reads the next frame of a data stream whose producer may pause for as long as it likes (a
     * remote dump feeding a pipe): unlike {@link #read()}, the wait does not show in
     * {@link #readingSinceNanos()}, so no idle timeout applies to it.
     */
    public Frame readStreamed() throws IOException {
        return readFrame();
    }

    private Frame readFrame() throws IOException {
        header.clear();
        if (!fill(header, true)) {
            return null;
        }
        header.flip();
        byte tag = header.get();
        int length = header.getInt();
        Channel channel = Channel.of(tag);
        if (channel == null) {
            throw new ProtocolException(String.format("unknown channel 0x%02x", tag & 0xff));
        }
        if (length < 0 || length > Protocol.MAX_FRAME_BYTES) {
            throw new ProtocolException("frame of " + Integer.toUnsignedString(length)
                    + " bytes exceeds the limit of " + Protocol.MAX_FRAME_BYTES);
        }
        ByteBuffer into = channel == Channel.DATA_IN || channel == Channel.DATA_OUT ? dataBuffer(length) : textBuffer(length);
        into.clear().limit(length);
        fill(into, false);
        into.flip();
        return new Frame(channel, into);
    }

    private ByteBuffer textBuffer(int length) {
        if (payload.capacity() < length) {
            payload = ByteBuffer.allocate(Math.max(length, Math.min(2 * payload.capacity(), Protocol.MAX_FRAME_BYTES)));
        }
        return payload;
    }

    private ByteBuffer dataBuffer(int length) {
        if (dataPayload == null || dataPayload.capacity() < length) {
            // Data frames are DATA_CHUNK_BYTES long but for the last: one buffer of that size serves them all.
            dataPayload = ByteBuffer.allocateDirect(Math.max(length, Protocol.DATA_CHUNK_BYTES));
        }
        return dataPayload;
    }

    /** When a {@link #read} is blocked waiting for the peer: its start in nanoTime, else 0. */
    public long readingSinceNanos() {
        return readingSinceNanos;
    }

    /**
     * While a write is in progress: when it last made progress (its start, or the last slice the
     * peer took), in nanoTime; else 0. A peer that stops reading shows as a time that stays put.
     */
    public long writeStalledSinceNanos() {
        return writeStalledSinceNanos;
    }

    private boolean fill(ByteBuffer buffer, boolean cleanEofAllowed) throws IOException {
        boolean first = true;
        while (buffer.hasRemaining()) {
            int n = in.read(buffer);
            if (n < 0) {
                if (first && cleanEofAllowed && buffer.position() == 0) {
                    return false;
                }
                throw new EOFException("connection closed inside a frame");
            }
            first = false;
        }
        return true;
    }

    /** Writes one frame with the given payload (from position to limit). Thread-safe. */
    public void write(Channel channel, ByteBuffer data) throws IOException {
        synchronized (writeLock) {
            writeStalledSinceNanos = System.nanoTime();
            try {
                writeHeader(channel, data.remaining());
                int end = data.limit();
                while (data.hasRemaining()) {
                    data.limit(Math.min(end, data.position() + WRITE_SLICE_BYTES));
                    out.write(data);
                    data.limit(end);
                    writeStalledSinceNanos = System.nanoTime();
                }
            } finally {
                writeStalledSinceNanos = 0;
            }
        }
    }

    public void write(Channel channel, byte[] data, int offset, int length) throws IOException {
        write(channel, ByteBuffer.wrap(data, offset, length));
    }

    public void writeText(Channel channel, String text) throws IOException {
        write(channel, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** Sends an empty frame, which marks the end of a data stream. */
    public void writeEnd(Channel channel) throws IOException {
        write(channel, ByteBuffer.allocate(0));
    }

    public void writeStrings(Channel channel, java.util.List<String> strings) throws IOException {
        write(channel, Strings.encode(strings));
    }

    public void writeExit(int status) throws IOException {
        write(Channel.EXIT, ByteBuffer.allocate(4).putInt(0, status));
    }

    /**
     * Sends {@code length} bytes of {@code file} from {@code position} as one frame, letting the
     * kernel copy the payload straight from the file to the socket.
     */
    public void transferFrom(Channel channel, FileChannel file, long position, int length) throws IOException {
        synchronized (writeLock) {
            writeStalledSinceNanos = System.nanoTime();
            try {
                writeHeader(channel, length);
                long done = 0;
                while (done < length) {
                    long n = file.transferTo(position + done, Math.min(length - done, WRITE_SLICE_BYTES), out);
                    if (n <= 0) {
                        if (position + done >= file.size()) {
                            throw new EOFException("file ended early while sending it");
                        }
                    } else {
                        writeStalledSinceNanos = System.nanoTime();
                    }
                    done += Math.max(n, 0);
                }
            } finally {
                writeStalledSinceNanos = 0;
            }
        }
    }

    private void writeHeader(Channel channel, int length) throws IOException {
        if (length > Protocol.MAX_FRAME_BYTES) {
            throw new IllegalArgumentException("frame too large: " + length);
        }
        outHeader.clear();
        outHeader.put(channel.tag).putInt(length).flip();
        while (outHeader.hasRemaining()) {
            out.write(outHeader);
        }
    }
}
