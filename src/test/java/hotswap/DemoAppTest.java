package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code make run}, the first thing a user starts: a start that cannot happen says why in one line. */
class DemoAppTest {
    private Path dir;
    private RunningApp first;

    @AfterEach
    void tearDown() {
        if (first != null) {
            first.close();
        }
        if (dir != null) {
            Fixtures.deleteTree(dir);
        }
    }

    @Test
    void aPortInUseIsOneErrorLineSayingWhatToDoAndNothingStarts() throws Exception {
        dir = Fixtures.tempDir();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Fixtures.Result r = demo(Map.of("PORT", Integer.toString(taken.getLocalPort())));
            assertEquals(1, r.exit(), r.toString());
            assertEquals(List.of("ERROR: cannot listen on 127.0.0.1:" + taken.getLocalPort() + " (Address already in use); "
                    + "nothing started. Stop what listens there (another demo app?), or set PORT to another port: "
                    + "PORT=8081 make run"), r.stderr().lines().toList(), r.toString());
        }
        try (Stream<Path> made = Files.list(dir)) {
            assertEquals(List.of(), made.toList(), "a database or a socket was made for an app that never ran");
        }
    }

    @Test
    void aSocketAnotherAppServesIsOneErrorLineAndThatAppServesOn() throws Exception {
        dir = Fixtures.tempDir();
        first = RunningApp.start("alpha");
        byte[] before = Files.readAllBytes(first.db);
        Fixtures.Result r = demo(Map.of("PORT", "0", "HOTSWAP_SOCKET", first.socket.toString(),
                "HOTSWAP_DB", dir.resolve("other.sqlite3").toString()));
        assertEquals(1, r.exit(), r.toString());
        assertEquals(List.of("ERROR: another hotswap server is already listening on " + first.socket
                + "; stop it first or configure another socket path; nothing started"), r.stderr().lines().toList(), r.toString());
        assertEquals(0, first.cli(dir, null, "status").exit(), "the first app's socket was taken");
        assertArrayEquals(before, Files.readAllBytes(first.db));
    }

    @Test
    void aPortThatIsNoNumberSaysSo() throws Exception {
        dir = Fixtures.tempDir();
        Fixtures.Result r = demo(Map.of("PORT", "eighty"));
        assertEquals(1, r.exit(), r.toString());
        assertEquals(List.of("ERROR: PORT=eighty is not a port number; nothing started. Set PORT to a number such as 8081"),
                r.stderr().lines().toList(), r.toString());
    }

    private Fixtures.Result demo(Map<String, String> env) throws Exception {
        // As make run starts it: JDK 24 and later warn about sqlite-jdbc's System.load otherwise.
        return Fixtures.run(dir, env, null, List.of(Fixtures.java(), "--enable-native-access=ALL-UNNAMED",
                "-cp", Fixtures.jar() + File.pathSeparator + Fixtures.sqliteJar(), "hotswap.demo.DemoApp"));
    }
}
