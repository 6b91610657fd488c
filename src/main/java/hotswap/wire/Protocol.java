package hotswap.wire;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Constants both ends of the control socket agree on. Internal to hotswap. */
public final class Protocol {
    /** The release, printed by {@code hotswap version}. */
    public static final String RELEASE = "0.1.0";
    /** Wire protocol version; bumped on any incompatible change to frames or messages. */
    public static final int VERSION = 8;
    /** Socket path used when neither {@code --socket} nor {@code HOTSWAP_SOCKET} is given. */
    public static final String DEFAULT_SOCKET = "tmp/sockets/hotswap.sock";
    /** Environment variable the client reads for the socket path. */
    public static final String SOCKET_ENV = "HOTSWAP_SOCKET";

    /** Largest payload one frame may carry. */
    public static final int MAX_FRAME_BYTES = 1 << 20;
    /** Size of the data frames both sides send when streaming a database, but for a streamed pull. */
    public static final int DATA_CHUNK_BYTES = 1 << 20;
    /**
     * Size of the data frames of a streamed pull. The client writes each frame whole to its
     * output before it reads the next, so the app sees its writes make progress once a frame:
     * small frames let a slow but steady reader (a slow pipe) stay within the write timeout.
     */
    public static final int PULL_CHUNK_BYTES = 64 << 10;
    /** Most strings one control message may carry. */
    public static final int MAX_STRINGS = 32;
    /** Longest string in a control message, in UTF-8 bytes (a Linux PATH_MAX). */
    public static final int MAX_STRING_BYTES = 4096;

    private Protocol() {
    }

    /** Sends this side's protocol version. */
    public static void sayHello(Frames frames) throws IOException {
        frames.write(Channel.HELLO, ByteBuffer.allocate(4).putInt(0, VERSION));
    }

    /**
     * Reads the peer's hello frame and returns its protocol version.
     *
     * @throws ProtocolException when the first frame is not a well-formed hello
     */
    public static int readHello(Frames frames) throws IOException {
        Frames.Frame frame = frames.read();
        if (frame == null) {
            throw new java.io.EOFException("connection closed before the handshake");
        }
        if (frame.channel() != Channel.HELLO || frame.payload().remaining() != 4) {
            throw new ProtocolException("expected a hotswap handshake, got something else");
        }
        return frame.payload().getInt(frame.payload().position());
    }

    public static int exitStatus(Frames.Frame frame) throws ProtocolException {
        if (frame.payload().remaining() != 4) {
            throw new ProtocolException("malformed exit status");
        }
        int status = frame.payload().getInt(frame.payload().position());
        // The app ends a command with 0 or 1; the client exits with it, and any other number (256 is 0 to
        // the shell) would slip past the checks that a success brought what it promised.
        if (status != 0 && status != 1) {
            throw new ProtocolException("exit status " + status + " is neither 0 nor 1");
        }
        return status;
    }
}
