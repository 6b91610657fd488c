package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The README's embedding example, as a user copies it: compiled against the jar, run as an app of
 * its own with the README's command line, and pushed to with the CLI. An API that drifts from the
 * README fails here.
 */
class ReadmeEmbeddingTest {
    private Path dir;
    private Process app;

    @AfterEach
    void tearDown() throws Exception {
        if (app != null) {
            app.destroyForcibly().waitFor();
        }
        Fixtures.deleteTree(dir);
    }

    @Test
    void theReadmesEmbeddingExampleCompilesServesAndTakesAPush() throws Exception {
        String example = firstJavaBlockAfter(Files.readString(Path.of("README.md")), "## Embedding it in an HttpServer app");
        assertEquals(1, example.split("8080", -1).length - 1, "the example's port, to be replaced by a free one:\n" + example);
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        dir = Fixtures.tempDir();
        Path src = Files.createDirectories(dir.resolve("src"));
        Files.writeString(src.resolve("App.java"), """
                import com.sun.net.httpserver.HttpServer;
                import hotswap.Hotswap;
                import java.io.IOException;
                import java.net.InetSocketAddress;
                import java.nio.charset.StandardCharsets;
                import java.nio.file.Path;
                import java.sql.Connection;
                import java.sql.ResultSet;
                import java.sql.SQLException;
                import java.util.concurrent.Executors;
                import javax.sql.DataSource;

                public class App {
                    public static void main(String[] args) throws Exception {
                """ + example.replace("8080", Integer.toString(port)) + "\n    }\n}\n");
        Path classes = Files.createDirectories(dir.resolve("classes"));
        String classpath = Fixtures.jar() + ":" + Fixtures.sqliteJar();
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        java.io.ByteArrayOutputStream errors = new java.io.ByteArrayOutputStream();
        int compiled = javac.run(null, errors, errors, "-cp", classpath, "-d", classes.toString(), src.resolve("App.java").toString());
        assertEquals(0, compiled, "the README's example does not compile:\n" + errors);

        Files.createDirectories(dir.resolve("db"));
        Fixtures.itemsDb(dir.resolve("db/production.sqlite3"), "a", "b", "c");
        // The README's command line: java --enable-native-access=ALL-UNNAMED -cp app.jar:hotswap.jar:sqlite-jdbc.jar App
        app = new ProcessBuilder(Fixtures.java(), "--enable-native-access=ALL-UNNAMED", "-cp", classes + ":" + classpath, "App")
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(dir.resolve("app.log").toFile()).start();
        assertEquals("200 3", awaitCount(port, "200 3"));

        Fixtures.itemsDb(dir.resolve("new.sqlite3"), "d", "e", "f", "g", "h");
        Fixtures.Result push = Fixtures.cli(dir, java.util.Map.of(), null, "cp", "new.sqlite3", "db/production.sqlite3");
        assertEquals(0, push.exit(), push + "\napp log:\n" + Files.readString(dir.resolve("app.log")));
        assertEquals("200 5", count(port));
    }

    private static String firstJavaBlockAfter(String readme, String heading) {
        int at = readme.indexOf("\n" + heading + "\n");
        assertTrue(at >= 0, "the README has no heading " + heading);
        int start = readme.indexOf("```java\n", at);
        assertTrue(start >= 0, "no java block after " + heading);
        start += "```java\n".length();
        return readme.substring(start, readme.indexOf("```", start));
    }

    private String awaitCount(int port, String expected) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        String last = null;
        while (System.nanoTime() < deadline && app.isAlive()) {
            try {
                last = count(port);
                if (last.equals(expected)) {
                    return last;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        return last + " (app " + (app.isAlive() ? "running" : "exited") + "; its log:\n" + Files.readString(dir.resolve("app.log")) + ")";
    }

    private static String count(int port) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/count")).build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }
}
