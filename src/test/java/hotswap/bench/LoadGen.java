package hotswap.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An HTTP/1.1 load generator: {@code connections} threads, each with one keep-alive connection.
 * Closed loop (the default): each sends its next GET as soon as the previous response is read.
 * Open loop ({@link #openLoop}): requests are due at a fixed rate, dealt round-robin to the
 * connections, and each one's latency counts from when it was due, so a stall delays and counts
 * every request scheduled behind it (no coordinated omission). Records every request's start
 * ({@link System#nanoTime()}; open loop: when it was due) and latency.
 */
final class LoadGen {
    private final int port;
    private final byte[] request;
    private final int connections;
    private final List<Worker> workers = new ArrayList<>();
    private volatile boolean running;
    /** Open loop: nanoseconds between two requests due; 0 for a closed loop. */
    private long periodNanos;
    /** Open loop: when request 0 is due. */
    private long firstDue;

    LoadGen(int port, String path, int connections) {
        this.port = port;
        this.request = ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUser-Agent: hotswap-bench\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        this.connections = connections;
    }

    /** Makes the next {@link #start} an open loop of {@code perSecond} requests a second. */
    LoadGen openLoop(double perSecond) {
        this.periodNanos = Math.round(1e9 / perSecond);
        return this;
    }

    /** All requests of one run, sorted by start time. */
    record Samples(long[] starts, long[] latencies, long errors, long durationNanos) {
        int count() {
            return starts.length;
        }

        double perSecond() {
            return count() / (durationNanos / 1e9);
        }
    }

    void start() {
        running = true;
        firstDue = System.nanoTime() + 50_000_000L; // once every thread runs
        for (int i = 0; i < connections; i++) {
            Worker w = new Worker(i);
            Thread t = new Thread(w, "load-" + i);
            t.setDaemon(true);
            w.thread = t;
            workers.add(w);
            t.start();
        }
    }

    Samples stop() throws InterruptedException {
        long stoppedAt = System.nanoTime();
        running = false;
        long firstStart = Long.MAX_VALUE;
        int total = 0;
        long errors = 0;
        for (Worker w : workers) {
            w.thread.join(10_000);
            total += w.count;
            errors += w.errors;
            firstStart = Math.min(firstStart, w.startedAt);
        }
        long[] starts = new long[total];
        long[] lats = new long[total];
        long[][] pairs = new long[total][];
        int k = 0;
        for (Worker w : workers) {
            for (int i = 0; i < w.count; i++) {
                pairs[k++] = new long[] {w.starts[i], w.lats[i]};
            }
        }
        Arrays.sort(pairs, (a, b) -> Long.compare(a[0], b[0]));
        for (int i = 0; i < total; i++) {
            starts[i] = pairs[i][0];
            lats[i] = pairs[i][1];
        }
        workers.clear();
        return new Samples(starts, lats, errors, stoppedAt - firstStart);
    }

    /** Runs the load for {@code millis} and returns its samples. */
    Samples run(long millis) throws InterruptedException {
        start();
        Thread.sleep(millis);
        return stop();
    }

    private final class Worker implements Runnable {
        private final int index;
        /** Open loop: how many requests this connection has sent. */
        private long sent;
        Thread thread;
        long startedAt = System.nanoTime();
        long[] starts = new long[1 << 14];
        long[] lats = new long[1 << 14];
        int count;
        long errors;

        Worker(int index) {
            this.index = index;
        }

        /** Closed loop: now. Open loop: when this connection's next request is due, after waiting for it. */
        private long nextStart() {
            if (periodNanos == 0) {
                return System.nanoTime();
            }
            long due = firstDue + (index + sent++ * connections) * periodNanos;
            for (long wait = due - System.nanoTime(); wait > 0 && running; wait = due - System.nanoTime()) {
                java.util.concurrent.locks.LockSupport.parkNanos(wait);
            }
            return due;
        }

        @Override
        public void run() {
            startedAt = periodNanos == 0 ? System.nanoTime() : firstDue;
            Socket socket = null;
            while (running) {
                try {
                    if (socket == null) {
                        socket = new Socket();
                        socket.setTcpNoDelay(true);
                        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                        socket.setSoTimeout(30_000);
                    }
                    OutputStream out = socket.getOutputStream();
                    InputStream in = new BufferedInputStream(socket.getInputStream(), 8192);
                    while (running) {
                        long t0 = nextStart();
                        if (!running) {
                            break;
                        }
                        out.write(request);
                        out.flush();
                        boolean keepAlive = readResponse(in);
                        record(t0, System.nanoTime() - t0);
                        if (!keepAlive) {
                            break;
                        }
                    }
                    socket.close();
                    socket = null;
                } catch (IOException e) {
                    errors++;
                    closeQuietly(socket);
                    socket = null;
                }
            }
            closeQuietly(socket);
        }

        private void record(long start, long latency) {
            if (count == starts.length) {
                starts = Arrays.copyOf(starts, count * 2);
                lats = Arrays.copyOf(lats, count * 2);
            }
            starts[count] = start;
            lats[count] = latency;
            count++;
        }

        /** Reads one response; counts a non-200 as an error. Returns whether the connection stays open. */
        private boolean readResponse(InputStream in) throws IOException {
            String status = line(in);
            if (!status.startsWith("HTTP/1.1 200")) {
                errors++;
            }
            long length = -1;
            boolean keepAlive = true;
            for (String h = line(in); !h.isEmpty(); h = line(in)) {
                int colon = h.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String name = h.substring(0, colon).trim();
                String value = h.substring(colon + 1).trim();
                if (name.equalsIgnoreCase("Content-Length")) {
                    length = Long.parseLong(value);
                } else if (name.equalsIgnoreCase("Connection") && value.equalsIgnoreCase("close")) {
                    keepAlive = false;
                }
            }
            if (length < 0) {
                throw new IOException("response without Content-Length");
            }
            in.skipNBytes(length); // throws EOFException on a short body
            return keepAlive;
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("connection closed");
            }
            if (c == '\n') {
                int n = b.length();
                return n > 0 && b.charAt(n - 1) == '\r' ? b.substring(0, n - 1) : b.toString();
            }
            b.append((char) c);
        }
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                // ignore
            }
        }
    }
}
