package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import hotswap.wire.Channel;
import hotswap.wire.Frames;
import hotswap.wire.Protocol;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An app configured with a relative socket path, in a directory whose absolute path is longer
 * than a socket address can hold: a second app started there probes the first one's socket by the
 * same relative path it would bind, finds it live, and refuses to start, leaving it in place.
 */
class LongSocketPathTest {
    private Path base;
    private Path appDir;
    private Process first;

    @BeforeEach
    void longDirectory() throws IOException {
        base = Fixtures.tempDir();
        appDir = base.resolve("an-app-directory-whose-absolute-path-is-longer-than-a-unix-socket-address-"
                + "can-hold-since-sun-path-has-108-bytes");
        Files.createDirectories(appDir);
        assertTrue(appDir.resolve("hs.sock").toString().length() > 110, appDir.toString());
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (first != null) {
            first.destroy();
            if (!first.waitFor(10, TimeUnit.SECONDS)) {
                first.destroyForcibly();
            }
        }
        Fixtures.deleteTree(base);
    }

    private Process startApp() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(Fixtures.java(), "-cp", Fixtures.jar() + ":" + Fixtures.sqliteJar(),
                "hotswap.demo.DemoApp").directory(appDir.toFile()).redirectErrorStream(true);
        pb.environment().put("PORT", "0");
        pb.environment().put("HOTSWAP_DB", "db/production.sqlite3");
        pb.environment().put("HOTSWAP_SOCKET", "hs.sock");
        return pb.start();
    }

    @Test
    void aSecondAppRefusesToStartAndTheFirstOnesSocketStillAnswers() throws Exception {
        first = startApp();
        String started = readLineContaining(first.getInputStream(), "demo app on");
        assertTrue(started.contains("demo app on"), "the first app did not start: " + started);
        Path socket = appDir.resolve("hs.sock");
        assertTrue(Files.exists(socket), "the first app's socket");

        Process second = startApp();
        if (!second.waitFor(30, TimeUnit.SECONDS)) {
            second.destroyForcibly();
            fail("the second app started on the first one's socket instead of refusing");
        }
        String output = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(second.exitValue() != 0, output);
        assertTrue(output.contains("another hotswap server is already listening on " + socket), output);

        assertTrue(Files.exists(socket), "the refused app must not remove the first one's socket");
        // A short symbolic link to the long directory reaches the socket by a path that fits in an address.
        Path shortcut = Files.createSymbolicLink(base.resolve("app"), appDir);
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(shortcut.resolve("hs.sock")));
            Frames.Frame hello = new Frames(ch).read();
            assertEquals(Channel.HELLO, hello.channel());
            assertEquals(Protocol.VERSION, hello.payload().getInt(0));
        }
        assertTrue(first.isAlive());
    }

    @Test
    void aSocketThatCannotBeProbedIsLeftInPlaceAndTheServerDoesNotStart() throws Exception {
        // A socket left at a path too long to connect to: bound through a short link, then closed.
        Path shortcut = Files.createSymbolicLink(base.resolve("app"), appDir);
        Path socket = appDir.resolve("hs.sock");
        try (ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            crashed.bind(UnixDomainSocketAddress.of(shortcut.resolve("hs.sock")));
        }
        assertTrue(Files.exists(socket));
        Path live = Fixtures.itemsDb(base.resolve("live.sqlite3"), "a");
        try (Hotswap hotswap = Hotswap.builder().socket(socket).database(live).build()) {
            IOException e = assertThrows(IOException.class, hotswap::start);
            assertTrue(e.getMessage().startsWith("could not tell whether a server still listens on " + socket + " ("), e.getMessage());
            assertTrue(e.getMessage().contains("); the socket was left in place and this server did not start."), e.getMessage());
        }
        assertTrue(Files.exists(socket), "a socket that cannot be probed must never be deleted");
    }

    /** Reads the process's output until a line holds {@code text} (returned), or until it ends (all output returned). */
    private static String readLineContaining(InputStream in, String text) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b; (b = in.read()) >= 0; ) {
            all.write(b);
            if (b != '\n') {
                line.write(b);
                continue;
            }
            String s = line.toString(StandardCharsets.UTF_8);
            if (s.contains(text)) {
                return s;
            }
            line.reset();
        }
        return all.toString(StandardCharsets.UTF_8);
    }

}
