package hotswap.cli;

import hotswap.wire.Frames;
import hotswap.wire.Printable;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The {@code --rsh} process that carries a remote copy: frames go to its stdin and come from its
 * stdout; its stderr is kept (the last {@link #STDERR_TAIL_BYTES}) to say why, should it end
 * before the command does. On success that text (ssh's warnings, fly's "Connecting to...") is not
 * shown: the command's own output is the answer.
 */
final class Transport implements Closeable {
    static final int STDERR_TAIL_BYTES = 4096;
    /** How long a transport may take to exit once the command ended or its stdin closed, before it is killed. */
    private static final long EXIT_WAIT_MILLIS = 5000;

    private final Process process;
    private final String shown;
    private final Frames frames;
    private final byte[] tail = new byte[STDERR_TAIL_BYTES];
    private long tailBytes;
    private final Thread stderrReader;

    private Transport(Process process, String shown) {
        this.process = process;
        this.shown = shown;
        this.frames = new Frames(Channels.newChannel(process.getInputStream()), new Flushing(process.getOutputStream()));
        this.stderrReader = new Thread(this::keepStderr, "hotswap-transport-stderr");
        this.stderrReader.setDaemon(true);
        this.stderrReader.start();
    }

    /**
     * Starts {@code argv} and writes {@code preamble} to its stdin, ahead of any frame.
     *
     * @param shown    how to name the transport in messages: its words, less the remote command
     * @param preamble what the remote command reads before it starts the relay ({@link RemoteCommand#preamble})
     */
    static Transport start(List<String> argv, String shown, byte[] preamble) throws Failure {
        Process process;
        try {
            process = new ProcessBuilder(argv).start();
        } catch (IOException e) {
            throw new Failure("cannot start the transport " + shown + ": " + e.getMessage() + "; nothing was sent. "
                    + "Install it, or name another with --rsh (or HOTSWAP_RSH)");
        }
        Transport t = new Transport(process, shown);
        try {
            process.getOutputStream().write(preamble);
            process.getOutputStream().flush();
        } catch (IOException e) {
            // The transport is already gone: the first frame fails the same way, and ending() tells why.
        }
        return t;
    }

    Frames frames() {
        return frames;
    }

    /**
     * Says how the transport ended: waits for it to exit (killing it after a while), and adds what
     * it wrote on stderr.
     */
    String ending() {
        closeStdin();
        String how;
        try {
            if (process.waitFor(EXIT_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                int status = process.exitValue();
                how = "the transport " + shown + " exited with status " + status
                        + (status == 127 ? " (127: a command was not found there; is hotswap installed in --remote-dir,"
                        + " or on the remote PATH? --remote-hotswap names it)" : "");
            } else {
                process.destroyForcibly();
                how = "the transport " + shown + " closed its output but did not exit; it was killed";
            }
            stderrReader.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            how = "the transport " + shown + " did not say how it ended";
        }
        String stderr = stderrTail();
        return stderr.isEmpty() ? how + ", printing nothing on stderr" : how + "; its stderr:\n" + stderr;
    }

    /** {@link #ending()} as a sentence of its own, for the end of a message. */
    String endingSentence() {
        String how = ending();
        return Character.toUpperCase(how.charAt(0)) + how.substring(1);
    }

    /** Lets the remote end see end of input, waits a while for the transport to exit, then kills it. */
    @Override
    public void close() {
        closeStdin();
        try {
            if (!process.waitFor(EXIT_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Cuts the connection at once: the remote end sees its input end. */
    void kill() {
        process.destroyForcibly();
    }

    private void closeStdin() {
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // A transport that already exited has no stdin to close.
        }
    }

    private void keepStderr() {
        byte[] buffer = new byte[1024];
        try (InputStream err = process.getErrorStream()) {
            int n;
            while ((n = err.read(buffer)) > 0) {
                synchronized (tail) {
                    for (int i = 0; i < n; i++) {
                        tail[(int) (tailBytes++ % tail.length)] = buffer[i];
                    }
                }
            }
        } catch (IOException ignored) {
            // The transport is gone; what it wrote so far is kept.
        }
    }

    private String stderrTail() {
        synchronized (tail) {
            int kept = (int) Math.min(tailBytes, tail.length);
            byte[] text = new byte[kept];
            for (int i = 0; i < kept; i++) {
                text[i] = tail[(int) ((tailBytes - kept + i) % tail.length)];
            }
            String s = Printable.lines(new String(text, StandardCharsets.UTF_8).strip());
            return tailBytes > kept ? "..." + s : s;
        }
    }

    /**
     * Writes each buffer straight through to the process's stdin and flushes it: the JDK buffers
     * that stream, and a frame left in its buffer would never reach the other side.
     */
    private static final class Flushing implements WritableByteChannel {
        private final OutputStream out;
        private final byte[] copy = new byte[64 * 1024];
        private boolean open = true;

        Flushing(OutputStream out) {
            this.out = out;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            int n = src.remaining();
            if (src.hasArray()) {
                out.write(src.array(), src.arrayOffset() + src.position(), n);
                src.position(src.limit());
            } else {
                while (src.hasRemaining()) {
                    int k = Math.min(copy.length, src.remaining());
                    src.get(copy, 0, k);
                    out.write(copy, 0, k);
                }
            }
            out.flush();
            return n;
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public void close() throws IOException {
            open = false;
            out.close();
        }
    }
}
