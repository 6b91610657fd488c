package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import hotswap.wire.Channel;
import hotswap.wire.CopyRequest;
import hotswap.wire.Frames;
import hotswap.wire.Protocol;
import hotswap.wire.Strings;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A hostile or broken client speaking raw bytes on the control socket. Whatever it sends, the
 * server answers with an error (or closes), keeps serving, never touches the live database and
 * leaves no temp file behind.
 */
class WireAbuseTest {
    /** Longest wait for anything the server should do promptly. Never a measurement. */
    private static final long WAIT_SECONDS = 10;

    Path dir;
    Path db;
    Path socket;
    Path client;
    byte[] liveBefore;
    Hotswap hotswap;
    final LogCapture log = new LogCapture("hotswap");
    final List<SocketChannel> opened = new ArrayList<>();
    final ExecutorService readers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "wire-abuse-reader");
        t.setDaemon(true);
        return t;
    });

    @BeforeEach
    void setUp() throws Exception {
        dir = Fixtures.tempDir();
        db = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "alpha", "bravo");
        socket = dir.resolve("hs.sock");
        client = Fixtures.tempDir();
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        liveBefore = Files.readAllBytes(db);
    }

    @AfterEach
    void tearDown() {
        for (SocketChannel ch : opened) {
            closeQuietly(ch);
        }
        readers.shutdownNow();
        if (hotswap != null) {
            hotswap.close();
        }
        log.close();
        Fixtures.deleteTree(dir);
        Fixtures.deleteTree(client);
    }

    private void startServer(Duration idleTimeout, int maxSessions) throws IOException {
        hotswap = Hotswap.builder().database(db).socket(socket).idleTimeout(idleTimeout).maxSessions(maxSessions).build();
        hotswap.start();
    }

    private void startServer() throws IOException {
        startServer(Duration.ofSeconds(30), 4);
    }

    // ------------------------------------------------------------------ raw client helpers

    /** A frame the server sent, copied out of the reused buffer. */
    record Got(Channel channel, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        int status() {
            return ByteBuffer.wrap(payload).getInt();
        }

        @Override
        public String toString() {
            return switch (channel) {
                case STDERR, STDOUT -> channel + "(" + text().strip() + ")";
                case EXIT, HELLO -> payload.length == 4 ? channel + "(" + status() + ")" : channel + "(?)";
                case CONTROL -> {
                    try {
                        yield channel + Strings.decode(ByteBuffer.wrap(payload)).toString();
                    } catch (IOException e) {
                        yield channel + "(undecodable)";
                    }
                }
                default -> channel + "(" + payload.length + " bytes)";
            };
        }
    }

    /** What the server sent until it sent its exit status, closed, or the wait ran out. */
    record Reply(List<Got> frames, boolean closedByServer, String readError) {
        String stderr() {
            return frames.stream().filter(f -> f.channel() == Channel.STDERR).map(Got::text).collect(Collectors.joining());
        }

        Integer exit() {
            return frames.stream().filter(f -> f.channel() == Channel.EXIT).map(Got::status).findFirst().orElse(null);
        }

        boolean has(Channel c) {
            return frames.stream().anyMatch(f -> f.channel() == c);
        }

        @Override
        public String toString() {
            return frames + (closedByServer ? " then EOF" : "") + (readError != null ? " then read error: " + readError : "");
        }
    }

    private SocketChannel connect() throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        opened.add(ch);
        ch.connect(UnixDomainSocketAddress.of(socket));
        return ch;
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
    }

    /** Writes raw bytes; the server may already have hung up, which is its right. */
    private static void writeRaw(SocketChannel ch, byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        try {
            while (b.hasRemaining()) {
                ch.write(b);
            }
        } catch (IOException e) {
            // The server refused and closed; its reply, if any, is still readable.
        }
    }

    private static byte[] header(int tag, int length) {
        return ByteBuffer.allocate(Frames.HEADER_BYTES).put((byte) tag).putInt(length).array();
    }

    private static byte[] frame(Channel channel, byte[] payload) {
        return ByteBuffer.allocate(Frames.HEADER_BYTES + payload.length).put(tagOf(channel))
                .putInt(payload.length).put(payload).array();
    }

    private static byte tagOf(Channel c) {
        return (byte) switch (c) {
            case HELLO -> 'H';
            case CONTROL -> 'C';
            case DATA_IN -> 'I';
            case DATA_IN_DEFLATED -> 'Z';
            case DATA_OUT -> 'D';
            case DATA_OUT_DEFLATED -> 'Y';
            case STDOUT -> 'O';
            case STDERR -> 'E';
            case EXIT -> 'X';
        };
    }

    private static byte[] hello(int version) {
        return frame(Channel.HELLO, ByteBuffer.allocate(4).putInt(version).array());
    }

    private static byte[] control(List<String> strings) {
        ByteBuffer b = Strings.encode(strings);
        byte[] payload = new byte[b.remaining()];
        b.get(payload);
        return frame(Channel.CONTROL, payload);
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    /**
     * Reads frames until the server's EXIT frame (stopFirst) or EOF, for at most WAIT_SECONDS; on
     * timeout the connection is closed and the test fails saying what arrived.
     */
    private Reply readReply(SocketChannel ch, String what) throws Exception {
        return read(ch, what, true, Channel.EXIT);
    }

    private Reply read(SocketChannel ch, String what, boolean failOnTimeout, Channel stopAt) throws Exception {
        List<Got> got = Collections.synchronizedList(new ArrayList<>());
        Frames frames = new Frames(ch);
        Future<Reply> f = readers.submit(() -> {
            try {
                while (true) {
                    Frames.Frame frame = frames.read();
                    if (frame == null) {
                        return new Reply(List.copyOf(got), true, null);
                    }
                    byte[] payload = new byte[frame.payload().remaining()];
                    frame.payload().duplicate().get(payload);
                    got.add(new Got(frame.channel(), payload));
                    if (frame.channel() == stopAt) {
                        return new Reply(List.copyOf(got), false, null);
                    }
                }
            } catch (IOException e) {
                return new Reply(List.copyOf(got), false, e.toString());
            }
        });
        try {
            return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            closeQuietly(ch);
            if (failOnTimeout) {
                fail(what + ": the server neither finished nor closed the connection within " + WAIT_SECONDS
                        + " s; received so far: " + got);
            }
            return new Reply(List.copyOf(got), false, "timeout");
        }
    }

    private static void assertHello(Reply r) {
        assertFalse(r.frames().isEmpty(), "no frame at all from the server: " + r);
        assertEquals(Channel.HELLO, r.frames().get(0).channel(), "the server's first frame must be its hello: " + r);
        assertEquals(Protocol.VERSION, r.frames().get(0).status(), "hello version: " + r);
    }

    /** The server said hello, then an error beginning with {@code prefix}, then exit status 1. */
    private static void assertRefused(Reply r, String prefix) {
        assertHello(r);
        assertTrue(r.stderr().startsWith(prefix), "expected stderr starting with <" + prefix + "> but got " + r);
        assertTrue(r.stderr().endsWith("\n"), "stderr text should end with a newline: " + r);
        assertEquals(Integer.valueOf(1), r.exit(), "exit status: " + r);
        assertFalse(r.has(Channel.DATA_OUT), "no database bytes may leave the server on a refusal: " + r);
        assertFalse(r.has(Channel.STDOUT), "nothing on stdout for a refusal: " + r);
    }

    /** Sends {@code bytes} as a fresh client and returns the server's reply. */
    private Reply exchange(String what, byte[] bytes) throws Exception {
        try (SocketChannel ch = connect()) {
            writeRaw(ch, bytes);
            return readReply(ch, what);
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("waited " + WAIT_SECONDS + " s for: " + what);
            }
            Thread.sleep(20);
        }
    }

    private List<String> leftovers() {
        try {
            return Fixtures.leftovers(dir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * The case left no trace and the server still works: the live file is byte-identical, no
     * temp file remains, and a normal push through the real CLI succeeds.
     */
    private void assertUnharmedAndServing() throws Exception {
        await("no temp file of ours beside the live db (found " + leftovers() + ")", () -> leftovers().isEmpty());
        assertArrayEquals(liveBefore, Files.readAllBytes(db), "the live database changed");
        // Nothing was written to the live db: no rollback journal, and no WAL frames. The DataSource's anchor
        // connection keeps an empty -wal and the -shm open while the app serves; SQLite writes the WAL's
        // header only with its first frame, so any write would show as a non-empty -wal.
        assertFalse(Files.exists(db.resolveSibling(db.getFileName() + "-journal")), "unexpected -journal file");
        Path wal = db.resolveSibling(db.getFileName() + "-wal");
        assertEquals(0, Files.exists(wal) ? Files.size(wal) : 0, "the live database's WAL has frames: something wrote to it");
        Fixtures.Result push = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", socket.toString()), null,
                "cp", "new.sqlite3", db.toString());
        assertEquals(0, push.exit(), "a normal push after the abuse must succeed:\n" + push + "\nserver log:\n" + log.dump());
        assertEquals("OK\n", push.out(), push.toString());
        assertEquals(List.of("new"), Fixtures.query(db, "SELECT name FROM items ORDER BY id"));
        assertEquals(List.of(), leftovers());
    }

    // ------------------------------------------------------------------ handshake garbage

    @Test
    void randomBytesInsteadOfAHandshake() throws Exception {
        startServer();
        Random random = new Random(20240601L);
        byte[] noise = new byte[64 * 1024];
        do {
            random.nextBytes(noise);
        } while ("HCIDOEX".indexOf(noise[0] & 0xff) >= 0); // a random first byte that is no channel tag
        Reply r = exchange("64 KiB of random bytes", noise);
        assertRefused(r, "ERROR: protocol error: unknown channel 0x" + String.format("%02x", noise[0] & 0xff));
        assertTrue(log.contains(Level.WARNING, "unknown channel"), "expected a WARNING about the unknown channel:\n" + log.dump());

        // The same noise after a valid hello, in the command's place.
        do {
            random.nextBytes(noise);
        } while ("HCIDOEX".indexOf(noise[0] & 0xff) >= 0);
        assertRefused(exchange("random bytes after a hello", concat(hello(Protocol.VERSION), noise)), "ERROR: protocol error: unknown channel");
        assertUnharmedAndServing();
    }

    @Test
    void anOversizedFrameIsRefusedFromItsHeaderAlone() throws Exception {
        startServer();
        String limit = "exceeds the limit of " + Protocol.MAX_FRAME_BYTES;
        // Only headers are sent: had the server allocated or waited for the announced payload,
        // no reply would come before the read times out.
        for (int length : new int[] {0x7fffffff, -1, Integer.MIN_VALUE, Protocol.MAX_FRAME_BYTES + 1}) {
            String what = "a hello header announcing " + Integer.toUnsignedString(length) + " bytes";
            try (SocketChannel ch = connect()) {
                writeRaw(ch, header('H', length));
                Reply r = readReply(ch, what);
                assertRefused(r, "ERROR: protocol error: frame of " + Integer.toUnsignedString(length) + " bytes " + limit);
            }
            String what2 = "a command header announcing " + Integer.toUnsignedString(length) + " bytes";
            try (SocketChannel ch = connect()) {
                writeRaw(ch, concat(hello(Protocol.VERSION), header('C', length)));
                assertRefused(readReply(ch, what2), "ERROR: protocol error: frame of " + Integer.toUnsignedString(length));
            }
        }
        assertTrue(log.contains(Level.WARNING, limit), "expected a WARNING naming the limit:\n" + log.dump());

        // Mid-push, a data header over the limit ends the push; the temp file goes.
        try (SocketChannel ch = startPush()) {
            // 4096 bytes that start as a database does: the app checks a push's first bytes as they arrive.
            byte[] start = java.util.Arrays.copyOf("SQLite format 3\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 4096);
            writeRaw(ch, concat(frame(Channel.DATA_IN, start), header('I', 0x7fffffff)));
            Reply r = readReply(ch, "an oversized data frame during a push");
            assertTrue(r.stderr().contains("ERROR: receiving the database failed after 4096 bytes: frame of 2147483647 bytes "
                    + limit + "; nothing changed"), r.toString());
            assertEquals(Integer.valueOf(1), r.exit(), r.toString());
        }
        assertUnharmedAndServing();
    }

    @Test
    void aFrameAtTheLimitIsReadButItsGarbageRefused() throws Exception {
        startServer();
        byte[] payload = new byte[Protocol.MAX_FRAME_BYTES];
        payload[1] = 1; // one string of length 0, then a megabyte of trailing zeros
        Reply r = exchange("a 1 MiB command of garbage", concat(hello(Protocol.VERSION), frame(Channel.CONTROL, payload)));
        assertRefused(r, "ERROR: protocol error: control message has " + (Protocol.MAX_FRAME_BYTES - 4) + " trailing bytes");
        assertUnharmedAndServing();
    }

    @Test
    void unknownChannelTags() throws Exception {
        startServer();
        assertRefused(exchange("tag Q first", concat(header('Q', 4), new byte[4])), "ERROR: protocol error: unknown channel 0x51");
        assertRefused(exchange("tag 0x00 after hello", concat(hello(Protocol.VERSION), header(0, 0))), "ERROR: protocol error: unknown channel 0x00");
        assertRefused(exchange("tag 0xff after hello", concat(hello(Protocol.VERSION), header(0xff, 3), new byte[3])),
                "ERROR: protocol error: unknown channel 0xff");
        assertUnharmedAndServing();
    }

    @Test
    void framesOnTheWrongChannelOrMalformedHellos() throws Exception {
        startServer();
        assertRefused(exchange("a command before the hello", control(List.of("cp", "-", db.toString()))),
                "ERROR: protocol error: expected a hotswap handshake");
        assertRefused(exchange("a 3-byte hello", frame(Channel.HELLO, new byte[3])), "ERROR: protocol error: expected a hotswap handshake");
        assertRefused(exchange("an empty hello", frame(Channel.HELLO, new byte[0])), "ERROR: protocol error: expected a hotswap handshake");
        assertRefused(exchange("data instead of a command", concat(hello(Protocol.VERSION), frame(Channel.DATA_IN, new byte[10]))),
                "ERROR: protocol error: expected a command, got a DATA_IN frame");
        assertRefused(exchange("an exit frame instead of a command", concat(hello(Protocol.VERSION), frame(Channel.EXIT, new byte[4]))),
                "ERROR: protocol error: expected a command, got a EXIT frame");
        assertUnharmedAndServing();
    }

    // ------------------------------------------------------------------ malformed commands

    private static byte[] rawStrings(int count, byte[]... strings) {
        int n = 2;
        for (byte[] s : strings) {
            n += 2 + s.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n).putShort((short) count);
        for (byte[] s : strings) {
            b.putShort((short) s.length).put(s);
        }
        return b.array();
    }

    @Test
    void malformedControlMessages() throws Exception {
        startServer();
        byte[][] thirtyThree = new byte[33][];
        for (int i = 0; i < thirtyThree.length; i++) {
            thirtyThree[i] = "a".getBytes(StandardCharsets.UTF_8);
        }
        byte[] long5000 = new byte[5000];
        java.util.Arrays.fill(long5000, (byte) 'x');
        Map<String, byte[]> cases = new java.util.LinkedHashMap<>();
        cases.put("33 strings", rawStrings(33, thirtyThree));
        cases.put("a 5000-byte string", rawStrings(1, long5000));
        cases.put("invalid UTF-8 (0xC3 0x28)", rawStrings(1, new byte[] {(byte) 0xC3, 0x28}));
        cases.put("an overlong UTF-8 slash (0xC0 0xAF)", rawStrings(2, "cp".getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xC0, (byte) 0xAF}));
        cases.put("a lone surrogate in UTF-8", rawStrings(1, new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}));
        cases.put("a count of 65535 with no strings", rawStrings(0xffff));
        cases.put("a count larger than the strings sent", rawStrings(3, "cp".getBytes(StandardCharsets.UTF_8)));
        cases.put("a string length past the end", ByteBuffer.allocate(6).putShort((short) 1).putShort((short) 100).put((byte) 'c').put((byte) 'p').array());
        cases.put("one byte", new byte[] {1});
        cases.put("empty", new byte[0]);
        cases.put("trailing bytes", concat(rawStrings(1, "cp".getBytes(StandardCharsets.UTF_8)), new byte[] {0}));
        Map<String, String> expected = Map.of(
                "33 strings", "control message has 33 strings; the limit is 32",
                "a 5000-byte string", "argument of 5000 bytes exceeds the limit of 4096",
                "invalid UTF-8 (0xC3 0x28)", "argument 1 is not valid UTF-8",
                "an overlong UTF-8 slash (0xC0 0xAF)", "argument 2 is not valid UTF-8",
                "a lone surrogate in UTF-8", "argument 1 is not valid UTF-8");
        for (Map.Entry<String, byte[]> c : cases.entrySet()) {
            Reply r = exchange(c.getKey(), concat(hello(Protocol.VERSION), frame(Channel.CONTROL, c.getValue())));
            String prefix = "ERROR: protocol error: " + expected.getOrDefault(c.getKey(), "");
            try {
                assertRefused(r, prefix);
            } catch (AssertionError e) {
                throw new AssertionError("case " + c.getKey() + ": " + e.getMessage(), e);
            }
        }
        assertTrue(log.contains(Level.WARNING, "refused a control connection: control message has 33 strings"), log.dump());
        assertUnharmedAndServing();
    }

    @Test
    void aHelloWithTheWrongProtocolVersion() throws Exception {
        startServer();
        Reply r = exchange("hello version 99", concat(hello(99), control(new CopyRequest("-", db.toString(),
                CopyRequest.Integrity.FULL, true, 0, -1, false, false).encode())));
        assertRefused(r, "ERROR: client speaks protocol version 99, this server speaks " + Protocol.VERSION);
        assertRefused(exchange("hello version -1", hello(-1)), "ERROR: client speaks protocol version -1, this server speaks " + Protocol.VERSION);
        assertRefused(exchange("hello version 0", hello(0)), "ERROR: client speaks protocol version 0, this server speaks " + Protocol.VERSION);
        assertUnharmedAndServing();
    }

    @Test
    void unknownCommandsAndBadRequests() throws Exception {
        startServer();
        assertRefused(exchange("rm -rf", concat(hello(Protocol.VERSION), control(List.of("rm", "-rf")))),
                "ERROR: unknown command rm; this server knows: cp, status");
        assertRefused(exchange("no strings", concat(hello(Protocol.VERSION), control(List.of()))), "ERROR: unknown command (none)");
        assertRefused(exchange("CP in capitals", concat(hello(Protocol.VERSION), control(List.of("CP", "-", db.toString())))),
                "ERROR: unknown command CP");
        String name = db.getFileName().toString();
        Map<String, List<String>> requests = new java.util.LinkedHashMap<>();
        requests.put("a relative source", List.of("cp", "new.sqlite3", db.toString()));
        requests.put("a relative destination named like the live db", List.of("cp", "-", name));
        requests.put("a dot-relative destination", List.of("cp", "-", "./" + name));
        requests.put("an empty path", List.of("cp", "", db.toString()));
        requests.put("a NUL byte in the path", List.of("cp", "-", db + "\0.evil"));
        requests.put("too few arguments", List.of("cp", "-"));
        requests.put("an unknown option", List.of("cp", "-", db.toString(), "chmod=777"));
        requests.put("a negative timeout", List.of("cp", "-", db.toString(), "timeout=-5"));
        requests.put("a non-numeric size", List.of("cp", "-", db.toString(), "source-size=lots"));
        requests.put("a repeated option", List.of("cp", "-", db.toString(), "force=false", "force=true"));
        requests.put("a delta source of 2^31 pages for a 4 KiB file",
                List.of("cp", "/tmp/new.sqlite3", db.toString(), "source-size=4096", "delta-source=4096:2147483647"));
        requests.put("a delta source with no size", List.of("cp", "/tmp/new.sqlite3", db.toString(), "delta-source=4096:10"));
        requests.put("a page size of 3000", List.of("cp", db.toString(), "/tmp/x", "delta-destination=3000:10"));
        requests.put("a negative page count", List.of("cp", db.toString(), "/tmp/x", "delta-destination=4096:-1"));
        requests.put("a malformed delta shape", List.of("cp", db.toString(), "/tmp/x", "delta-destination=4096"));
        requests.put("an unknown origin", List.of("cp", "-", db.toString(), "origin=mars"));
        requests.put("a status with arguments", List.of("status", "--all"));
        for (Map.Entry<String, List<String>> c : requests.entrySet()) {
            Reply r = exchange(c.getKey(), concat(hello(Protocol.VERSION), control(c.getValue())));
            try {
                assertRefused(r, "ERROR: ");
                assertFalse(r.has(Channel.CONTROL), "the server must not start a transfer: " + r);
            } catch (AssertionError e) {
                throw new AssertionError("case " + c.getKey() + ": " + e.getMessage(), e);
            }
        }
        Reply relative = exchange("relative", concat(hello(Protocol.VERSION), control(List.of("cp", "new.sqlite3", db.toString()))));
        assertRefused(relative, "ERROR: malformed cp request: source must be an absolute path or -");
        Reply relativeDest = exchange("relative dest", concat(hello(Protocol.VERSION), control(List.of("cp", "-", name))));
        assertRefused(relativeDest, "ERROR: malformed cp request: destination must be an absolute path or -");

        // Invariant 7: a path that is no managed database is neither read nor written.
        Reply secret = exchange("pull /etc/passwd", concat(hello(Protocol.VERSION), control(List.of("cp", "/etc/passwd", "-"))));
        assertRefused(secret, "ERROR: neither /etc/passwd nor - is a managed database; nothing changed. Managed: live.sqlite3 (" + db.toRealPath() + ")");
        Reply overwrite = exchange("push into /etc/passwd", concat(hello(Protocol.VERSION), control(List.of("cp", "-", "/etc/passwd"))));
        assertRefused(overwrite, "ERROR: neither - nor /etc/passwd is a managed database");
        assertUnharmedAndServing();
    }

    // ------------------------------------------------------------------ deflated chunks of a whole push

    /** A whole push of {@code chunks} (frames after the request), from a client that allows compression or not, then the end. */
    private Reply pushChunks(String what, boolean compress, byte[]... chunks) throws Exception {
        byte[] request = control(new CopyRequest("-", db.toString(), CopyRequest.Integrity.FULL, true, 0, -1, false, false, null, null,
                compress).encode());
        return exchange(what, concat(hello(Protocol.VERSION), request, concat(chunks), frame(Channel.DATA_IN, new byte[0])));
    }

    /** A DATA_IN_DEFLATED frame announcing {@code length} bytes and carrying {@code data}. */
    private static byte[] deflatedChunk(int length, byte[] data) {
        return frame(Channel.DATA_IN_DEFLATED, ByteBuffer.allocate(4 + data.length).putInt(length).put(data).array());
    }

    private static byte[] deflate(byte[] data) {
        java.util.zip.Deflater d = new java.util.zip.Deflater(java.util.zip.Deflater.BEST_SPEED);
        d.setInput(data);
        d.finish();
        byte[] out = new byte[data.length + 64];
        int n = d.deflate(out);
        d.end();
        return java.util.Arrays.copyOf(out, n);
    }

    @Test
    void aWholePushMayComeInDeflatedChunksAndLandsAsSent() throws Exception {
        startServer();
        byte[] pushed = Files.readAllBytes(client.resolve("new.sqlite3"));
        int half = pushed.length / 2;
        Reply r = pushChunks("deflated, then raw", true, deflatedChunk(half, deflate(java.util.Arrays.copyOf(pushed, half))),
                frame(Channel.DATA_IN, java.util.Arrays.copyOfRange(pushed, half, pushed.length)));
        assertEquals(Integer.valueOf(0), r.exit(), r.toString());
        assertArrayEquals(Fixtures.query(client.resolve("new.sqlite3"), "SELECT name FROM items").toArray(),
                Fixtures.query(db, "SELECT name FROM items").toArray());
        await("no temp file of ours beside the live db (found " + leftovers() + ")", () -> leftovers().isEmpty());
    }

    @Test
    void deflatedChunksThatDoNotInflateAsAnnouncedAreRefusedWithNothingChanged() throws Exception {
        startServer();
        byte[] pushed = Files.readAllBytes(client.resolve("new.sqlite3"));
        byte[] packed = deflate(pushed);
        byte[] big = new byte[Protocol.DATA_CHUNK_BYTES + 1];
        Map<String, byte[]> cases = new java.util.LinkedHashMap<>();
        cases.put("announcing fewer bytes than it holds", deflatedChunk(pushed.length - 1, packed));
        cases.put("announcing more bytes than it holds", deflatedChunk(pushed.length + 1, packed));
        cases.put("announcing no bytes", deflatedChunk(0, packed));
        cases.put("announcing a negative length", deflatedChunk(-5, packed));
        cases.put("announcing more than a chunk", deflatedChunk(big.length, deflate(big)));
        cases.put("holding bytes after the deflated data", deflatedChunk(pushed.length, concat(packed, new byte[] {1, 2, 3})));
        cases.put("damaged deflated data", deflatedChunk(pushed.length, new byte[] {(byte) 0xff, 0x13, 0x37, 0, 0, 0}));
        cases.put("too short to hold a length", frame(Channel.DATA_IN_DEFLATED, new byte[] {0, 1}));
        for (Map.Entry<String, byte[]> c : cases.entrySet()) {
            Reply r = pushChunks(c.getKey(), true, c.getValue());
            try {
                assertTrue(r.stderr().contains("ERROR: protocol error after 0 bytes: a deflated chunk "), r.toString());
                assertTrue(r.stderr().contains("; nothing changed"), r.toString());
                assertEquals(Integer.valueOf(1), r.exit(), r.toString());
            } catch (AssertionError e) {
                throw new AssertionError("case " + c.getKey() + ": " + e.getMessage(), e);
            }
        }
        // A request that does not allow compression gets no deflated chunk in.
        Reply r = pushChunks("a deflated chunk the request did not allow", false, deflatedChunk(pushed.length, packed));
        assertTrue(r.stderr().contains("ERROR: protocol error: the client sent a deflated chunk, but its request did not allow "
                + "compression; nothing changed"), r.toString());
        assertEquals(Integer.valueOf(1), r.exit(), r.toString());
        assertUnharmedAndServing();
    }

    // ------------------------------------------------------------------ silent and vanishing clients

    @Test
    void aSilentConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        startServer(Duration.ofMillis(300), 4);
        try (SocketChannel ch = connect()) {
            Reply r = read(ch, "a client that sends nothing", true, null);
            assertTrue(r.closedByServer(), "the server should close a silent connection (EOF) after its hello: " + r);
            assertEquals(1, r.frames().size(), "only the server's hello before the close: " + r);
            assertHello(r);
        }
        await("a WARNING about the silent client; log:\n" + log.dump(),
                () -> log.contains(Level.WARNING, "closing a control connection: the client sent nothing for 300 ms"));

        // Silent in the middle of a frame header and in the middle of a command frame.
        for (byte[] partial : new byte[][] {hello(Protocol.VERSION), concat(hello(Protocol.VERSION), new byte[] {'C', 0}),
                concat(hello(Protocol.VERSION), header('C', 100), new byte[10])}) {
            try (SocketChannel ch = connect()) {
                writeRaw(ch, partial);
                Reply r = read(ch, "a client silent after " + partial.length + " bytes", true, null);
                assertTrue(r.closedByServer(), "the server should close the stalled connection: " + r);
                assertHello(r);
            }
        }
        assertUnharmedAndServing();
    }

    /** Says hello, asks to push to the live db from stdin, and waits for the server's go-ahead. */
    private SocketChannel startPush() throws Exception {
        SocketChannel ch = connect();
        writeRaw(ch, concat(hello(Protocol.VERSION), control(new CopyRequest("-", db.toString(), CopyRequest.Integrity.FULL, true, 0, -1,
                false, false).encode())));
        Reply r = read(ch, "the push go-ahead", true, Channel.CONTROL);
        assertHello(r);
        Got last = r.frames().get(r.frames().size() - 1);
        assertEquals(Channel.CONTROL, last.channel(), "expected the server's push go-ahead: " + r);
        assertEquals(List.of("push"), Strings.decode(ByteBuffer.wrap(last.payload())), r.toString());
        return ch;
    }

    @Test
    void aProducerThatPausesLongerThanTheIdleTimeoutStillPushes() throws Exception {
        startServer(Duration.ofMillis(300), 4);
        byte[] pushed = Files.readAllBytes(client.resolve("new.sqlite3"));
        try (SocketChannel ch = startPush()) {
            writeRaw(ch, frame(Channel.DATA_IN, java.util.Arrays.copyOf(pushed, 4096)));
            await("the pushed bytes to land in a temp file beside the live db", () -> !leftovers().isEmpty());
            Thread.sleep(1000); // the producer pauses (a remote dump still running): several idle timeouts
            writeRaw(ch, concat(frame(Channel.DATA_IN, java.util.Arrays.copyOfRange(pushed, 4096, pushed.length)),
                    frame(Channel.DATA_IN, new byte[0])));
            Reply r = readReply(ch, "a push whose producer paused");
            assertEquals(Integer.valueOf(0), r.exit(), r + "\nserver log:\n" + log.dump());
        }
        assertEquals(List.of("new"), Fixtures.query(db, "SELECT name FROM items ORDER BY id"));
        assertFalse(log.contains(Level.WARNING, "the client sent nothing"), log.dump());

        // The same through the real CLI, its stdin a pipe whose producer is silent at first.
        Fixtures.itemsDb(client.resolve("newer.sqlite3"), "newer");
        Fixtures.Result push = Fixtures.run(client, Map.of("HOTSWAP_SOCKET", socket.toString()), null, List.of("sh", "-c",
                "(sleep 1; cat newer.sqlite3) | '" + Fixtures.java() + "' -jar '" + Fixtures.jar() + "' cp - '" + db + "'"));
        assertEquals(0, push.exit(), push + "\nserver log:\n" + log.dump());
        assertEquals(List.of("newer"), Fixtures.query(db, "SELECT name FROM items ORDER BY id"));
        assertEquals(List.of(), leftovers());
    }

    @Test
    void aClientThatStopsReadingAStreamedPullIsCutAfterTheWriteTimeoutAndItsSnapshotFreed() throws Exception {
        // Larger than the socket's buffers, so the server's writes block once the client stops reading.
        SocketChannel ch = serveRowsAndConnect(4000);
        List<String> offer = requestPullUntilOffer(ch);
        writeRaw(ch, control(List.of("stream")));
        // ... and reads nothing more.
        await("a WARNING that the client read nothing; log:\n" + log.dump(),
                () -> log.contains(Level.WARNING, "closing a control connection: the client read nothing for 500 ms"));
        await("the snapshot's descriptor to be closed (open: " + openSnapshots() + ")", () -> openSnapshots().isEmpty());
        assertFalse(Files.exists(Path.of(offer.get(2))), "the snapshot file is gone");
        ch.close();
        assertUnharmedAndServing(); // with maxSessions(1): the stalled session is gone
    }

    @Test
    void aSlowButSteadyReaderOfAStreamedPullIsNotCutAndGetsTheWholeSnapshot() throws Exception {
        SocketChannel ch = serveRowsAndConnect(1000);
        List<String> offer = requestPullUntilOffer(ch);
        writeRaw(ch, control(List.of("stream")));
        // As the CLI does with a slow stdout: each frame is written out whole, at about 1 MB/s, before the next is read.
        Frames frames = new Frames(ch);
        long received = 0;
        Integer exit = null;
        for (Frames.Frame f; exit == null && (f = frames.read()) != null; ) {
            if (f.channel() == Channel.DATA_OUT) {
                received += f.payload().remaining();
                Thread.sleep(f.payload().remaining() / 1000);
            } else if (f.channel() == Channel.EXIT) {
                exit = Protocol.exitStatus(f);
            }
        }
        ch.close();
        assertEquals(Integer.valueOf(0), exit, "log:\n" + log.dump());
        assertEquals(Long.parseLong(offer.get(1)), received, "the whole snapshot arrived");
        assertFalse(log.contains(Level.WARNING, "the client read nothing"), log.dump());
    }

    /**
     * Makes the live database {@code rows} rows of 2 KB, starts a server with a 500 ms write
     * timeout and one session, and connects to it.
     */
    private SocketChannel serveRowsAndConnect(int rows) throws Exception {
        Files.delete(db);
        Fixtures.createDb(db, "PRAGMA journal_mode=WAL", "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)",
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + rows + ") "
                        + "INSERT INTO items(name) SELECT hex(randomblob(1000)) FROM n");
        liveBefore = Files.readAllBytes(db);
        hotswap = Hotswap.builder().database(db).socket(socket).writeTimeout(Duration.ofMillis(500)).maxSessions(1).build();
        hotswap.start();
        return connect();
    }

    /** Descriptors of this process (the server's) still open on a file of ours. */
    private static List<String> openSnapshots() {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    return "";
                }
            }).filter(target -> target.contains(".hotswap-")).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aClientThatDisappearsMidPush() throws Exception {
        startServer();
        byte[] pushed = Files.readAllBytes(client.resolve("new.sqlite3"));
        byte[] part = java.util.Arrays.copyOf(pushed, 4096);

        // 1. Closes between frames, after its bytes reached the temp file.
        SocketChannel ch = startPush();
        writeRaw(ch, frame(Channel.DATA_IN, part));
        await("the pushed bytes to land in a temp file beside the live db", () -> !leftovers().isEmpty());
        ch.close();
        await("the temp file to be removed after the client vanished (left: " + leftovers() + ")", () -> leftovers().isEmpty());
        await("a WARNING that the client disconnected; log:\n" + log.dump(),
                () -> log.contains(Level.WARNING, "command failed: the client disconnected after sending 4096 bytes; nothing changed"));
        assertArrayEquals(liveBefore, Files.readAllBytes(db), "the live database changed");

        // 2. Closes in the middle of a data frame.
        ch = startPush();
        writeRaw(ch, concat(frame(Channel.DATA_IN, part), header('I', 65536), new byte[1000]));
        ch.close();
        await("the temp file to be removed after a close inside a frame (left: " + leftovers() + ")", () -> leftovers().isEmpty());
        assertArrayEquals(liveBefore, Files.readAllBytes(db), "the live database changed");

        // 3. Half-closes (stops sending) but keeps listening: it is told what happened.
        ch = startPush();
        writeRaw(ch, frame(Channel.DATA_IN, part));
        ch.shutdownOutput();
        Reply r = readReply(ch, "a half-closed push");
        assertTrue(r.stderr().contains("ERROR: the client disconnected after sending 4096 bytes; nothing changed"), r.toString());
        assertEquals(Integer.valueOf(1), r.exit(), r.toString());
        ch.close();

        // 4. Sends the whole file but vanishes instead of sending the end-of-data frame.
        ch = startPush();
        writeRaw(ch, frame(Channel.DATA_IN, pushed));
        ch.close();
        await("the temp file to be removed when the end frame never came (left: " + leftovers() + ")", () -> leftovers().isEmpty());

        // 5. Asks for a pull and vanishes without reading it.
        ch = connect();
        writeRaw(ch, concat(hello(Protocol.VERSION), control(List.of("cp", db.toString(), "-"))));
        ch.close();
        await("the pull snapshot to be removed (left: " + leftovers() + ")", () -> leftovers().isEmpty());

        assertUnharmedAndServing();
    }

    // ------------------------------------------------------------------ the snapshot offer

    /** Asks for a pull to stdout with raw frames and reads up to the server's offer of its snapshot file. */
    private List<String> requestPullUntilOffer(SocketChannel ch) throws Exception {
        writeRaw(ch, concat(hello(Protocol.VERSION), control(new CopyRequest(db.toString(), "-",
                CopyRequest.Integrity.FULL, true, 0, -1, false, false).encode())));
        while (true) {
            Reply r = read(ch, "the snapshot offer", true, Channel.CONTROL);
            Got last = r.frames().get(r.frames().size() - 1);
            assertEquals(Channel.CONTROL, last.channel(), "expected the offer, got " + r);
            List<String> message = Strings.decode(ByteBuffer.wrap(last.payload()));
            if (message.get(0).equals("pull")) {
                return message;
            }
        }
    }

    @Test
    void aClientThatCopiesTheSnapshotLongerThanTheIdleTimeoutIsNotCutOff() throws Exception {
        startServer(Duration.ofMillis(300), 4);
        SocketChannel ch = connect();
        List<String> offer = requestPullUntilOffer(ch);
        Path copy = client.resolve("copy.sqlite3");
        try (java.nio.channels.FileChannel snapshot = java.nio.channels.FileChannel.open(Path.of(offer.get(2)));
             java.nio.channels.FileChannel out = java.nio.channels.FileChannel.open(copy,
                     java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            writeRaw(ch, control(List.of("took", "copying")));
            Thread.sleep(1000); // a large copy, as a client writing to a slow disk makes it, takes longer than the idle timeout
            snapshot.transferTo(0, snapshot.size(), out);
        }
        Reply r = readReply(ch, "the exit status");
        assertEquals(Integer.valueOf(0), r.exit(), r.toString());
        ch.close();
        await("the pull to end (log:\n" + log.dump() + ")", () -> openSnapshots().isEmpty());
        assertFalse(log.contains(Level.WARNING, "sent nothing"), "a client copying the snapshot was taken for a silent one:\n" + log.dump());
        assertEquals(List.of("ok"), Fixtures.query(copy, "PRAGMA integrity_check"));
    }

    @Test
    void aClientThatAsksForTheStreamGetsTheWholeSnapshotThroughTheSocket() throws Exception {
        startServer();
        SocketChannel ch = connect();
        List<String> offer = requestPullUntilOffer(ch);
        assertEquals(5, offer.size(), offer.toString());
        Path offered = Path.of(offer.get(2));
        assertEquals(db.getParent(), offered.getParent(), "the snapshot lies beside the live db: " + offer);
        assertTrue(Files.exists(offered), "the offered file keeps its name until the client answers: " + offer);
        writeRaw(ch, control(List.of("stream")));
        Reply r = readReply(ch, "the streamed snapshot");
        assertEquals(Integer.valueOf(0), r.exit(), r.toString());
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        r.frames().stream().filter(f -> f.channel() == Channel.DATA_OUT).forEach(f -> bytes.writeBytes(f.payload()));
        assertEquals(Long.parseLong(offer.get(1)), bytes.size(), "the stream holds the offered size");
        Path pulled = Files.write(client.resolve("streamed.sqlite3"), bytes.toByteArray());
        assertEquals(List.of("alpha", "bravo"), Fixtures.query(pulled, "SELECT name FROM items ORDER BY id"));
        await("the log to say the pull was streamed; log:\n" + log.dump(), () -> log.contains(Level.INFO, "pull complete: "));
        assertTrue(log.dump().contains(" bytes in ") && log.dump().contains("streamed)"), log.dump());
        assertUnharmedAndServing();
    }

    @Test
    void anyOtherAnswerToTheSnapshotOfferEndsThePullAndLeavesNoSnapshotBehind() throws Exception {
        startServer();
        Map<String, byte[]> answers = new java.util.LinkedHashMap<>();
        answers.put("took everything", control(List.of("took", "everything")));
        answers.put("took, with no way", control(List.of("took")));
        answers.put("stream, twice", control(List.of("stream", "stream")));
        answers.put("data instead of an answer", frame(Channel.DATA_IN, new byte[16]));
        answers.put("a hang-up", new byte[0]);
        for (Map.Entry<String, byte[]> answer : answers.entrySet()) {
            SocketChannel ch = connect();
            Path offered = Path.of(requestPullUntilOffer(ch).get(2));
            if (answer.getValue().length == 0) {
                ch.close();
            } else {
                writeRaw(ch, answer.getValue());
                Reply r = read(ch, answer.getKey(), true, Channel.EXIT);
                assertFalse(r.has(Channel.EXIT) && r.exit() == 0, answer.getKey() + " must not complete the pull: " + r);
                assertFalse(r.has(Channel.DATA_OUT), answer.getKey() + " must not be answered with the snapshot: " + r);
                ch.close();
            }
            await(answer.getKey() + ": the snapshot file to be removed", () -> !Files.exists(offered));
        }
        assertTrue(log.contains(Level.WARNING, "unexpected answer to the snapshot offer"), log.dump());
        assertUnharmedAndServing();
    }

    // ------------------------------------------------------------------ too many clients

    @Test
    void theRealCliIsToldTheServerIsBusy() throws Exception {
        startServer(Duration.ofSeconds(60), 1);
        try (SocketChannel stalled = connect()) {
            writeRaw(stalled, hello(Protocol.VERSION));
            assertHello(read(stalled, "hello of the stalled connection", true, Channel.HELLO));
            Fixtures.Result r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", socket.toString()), null,
                    "cp", db.toString(), "-");
            assertEquals(1, r.exit(), r.toString());
            assertEquals(0, r.stdout().length, r.toString());
            assertTrue(r.stderr().startsWith("ERROR: server busy: 1 hotswap commands are already running"), r.toString());
            assertTrue(r.stderr().contains("; nothing changed. Try again when they finish"), r.toString());
        }
    }

    @Test
    void connectionsBeyondMaxSessionsAreToldTheServerIsBusy() throws Exception {
        startServer(Duration.ofSeconds(60), 2);
        List<SocketChannel> stalled = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            SocketChannel ch = connect();
            writeRaw(ch, hello(Protocol.VERSION));
            Reply r = read(ch, "hello of stalled connection " + (i + 1), true, Channel.HELLO);
            assertHello(r); // its session runs now, waiting for a command
            stalled.add(ch);
        }
        String busy = "ERROR: server busy: 2 hotswap commands are already running";
        Reply third = exchange("a third connection", concat(hello(Protocol.VERSION), control(List.of("cp", db.toString(), "-"))));
        assertRefused(third, busy);
        assertFalse(third.has(Channel.CONTROL), third.toString());

        // A burst of connections at once: every one is refused promptly, none is queued.
        List<SocketChannel> burst = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            burst.add(connect());
        }
        for (int i = 0; i < burst.size(); i++) {
            assertRefused(readReply(burst.get(i), "burst connection " + i), busy);
            burst.get(i).close();
        }
        assertTrue(log.contains(Level.WARNING, "refused a control connection: 2 commands already running"), log.dump());

        // The stalled sessions were not harmed by the refusals: one still gets its answer.
        writeRaw(stalled.get(0), control(List.of("rm", "-rf")));
        Reply answer = readReply(stalled.get(0), "a command on a stalled connection");
        assertTrue(answer.stderr().startsWith("ERROR: unknown command rm"), answer.toString());
        assertEquals(Integer.valueOf(1), answer.exit(), answer.toString());

        for (SocketChannel ch : stalled) {
            ch.close();
        }
        // Wait until the sessions are free again (a probe is refused as busy until then).
        await("the sessions to be free after the stalled connections closed", () -> {
            try {
                Reply probe = exchange("probe", concat(hello(Protocol.VERSION), control(List.of("probe"))));
                return probe.stderr().startsWith("ERROR: unknown command probe");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        assertUnharmedAndServing();
    }
}
