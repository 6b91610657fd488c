package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The client is JDK-only: even with sqlite-jdbc on its classpath, a push, a pull and
 * {@code version} load no {@code org.sqlite} class; and the jar ships nothing but hotswap.
 */
class ClientLoadsNoSqliteTest {
    private static final Pattern LOADED = Pattern.compile("\\[class,load\\] (\\S+) ");

    static RunningApp app;
    static Path client;

    @BeforeAll
    static void start() throws Exception {
        app = RunningApp.start("alpha", "bravo");
        client = Fixtures.tempDir();
    }

    @AfterAll
    static void stop() {
        app.close();
        Fixtures.deleteTree(client);
    }

    @Test
    void pushFromFileLoadsNoSqliteClass() throws Exception {
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "x", "y");
        List<String> loaded = runVerbose(null, "cp", "new.sqlite3", app.db.toString());
        assertEquals("[\"x\",\"y\"]", app.get("/items").body());
        assertNoSqlite(loaded);
    }

    @Test
    void pushFromStdinLoadsNoSqliteClass() throws Exception {
        byte[] db = Files.readAllBytes(Fixtures.itemsDb(client.resolve("piped.sqlite3"), "piped"));
        List<String> loaded = runVerbose(db, "cp", "-", app.db.toString());
        assertEquals("[\"piped\"]", app.get("/items").body());
        assertNoSqlite(loaded);
    }

    @Test
    void pullToFileLoadsNoSqliteClass() throws Exception {
        Path backup = client.resolve("backup-" + System.nanoTime() + ".sqlite3");
        List<String> loaded = runVerbose(null, "cp", app.db.toString(), backup.toString());
        assertTrue(Files.size(backup) > 0);
        assertEquals(List.of("ok"), Fixtures.query(backup, "PRAGMA integrity_check"));
        assertNoSqlite(loaded);
    }

    @Test
    void statusLoadsNoSqliteClass() throws Exception {
        List<String> loaded = runVerbose(null, "status", "--json");
        assertTrue(loaded.contains("hotswap.cli.StatusClient"), "the status ran");
        assertNoSqlite(loaded);
    }

    @Test
    void versionLoadsNoSqliteClass() throws Exception {
        assertNoSqlite(runVerbose(null, "version"));
    }

    @Test
    void jarHoldsOnlyHotswapClassesAndMetaInf() throws Exception {
        List<String> names = new ArrayList<>();
        try (ZipFile jar = new ZipFile(Fixtures.jar().toFile())) {
            Collections.list(jar.entries()).stream().map(ZipEntry::getName).forEach(names::add);
        }
        assertTrue(names.contains("hotswap/cli/Main.class"), names.toString());
        List<String> foreign = names.stream().filter(n -> !n.startsWith("hotswap/") && !n.startsWith("META-INF/")).toList();
        assertEquals(List.of(), foreign);
    }

    /**
     * Runs {@code java -verbose:class -cp hotswap.jar:sqlite-jdbc.jar hotswap.cli.Main ARGS}
     * against the app, asserts it exited 0, and returns the names of the classes it loaded.
     */
    private static List<String> runVerbose(byte[] stdin, String... args) throws Exception {
        assertTrue(Files.isRegularFile(Fixtures.sqliteJar()), "sqlite-jdbc must be on the client's classpath");
        List<String> command = new ArrayList<>(List.of(Fixtures.java(), "-verbose:class", "-cp",
                Fixtures.jar() + ":" + Fixtures.sqliteJar(), "hotswap.cli.Main"));
        command.addAll(List.of(args));
        Fixtures.Result r = Fixtures.run(client, Map.of("HOTSWAP_SOCKET", app.socket.toString(), "CLASSPATH", ""), stdin, command);
        assertEquals(0, r.exit(), r.stderr());
        List<String> loaded = new ArrayList<>();
        Matcher m = LOADED.matcher(r.out()); // -verbose:class logs to standard output
        while (m.find()) {
            loaded.add(m.group(1));
        }
        // The log is really parsed: the client's own classes are in it.
        assertTrue(loaded.contains("hotswap.cli.Main"), "no class-load log found:\n" + r.stderr());
        return loaded;
    }

    private static void assertNoSqlite(List<String> loaded) {
        assertEquals(List.of(), loaded.stream().filter(n -> n.startsWith("org.sqlite")).toList());
        assertEquals(List.of(), loaded.stream().filter(n -> n.startsWith("java.sql.DriverManager")).toList(),
                "the client must not touch JDBC at all");
    }
}
