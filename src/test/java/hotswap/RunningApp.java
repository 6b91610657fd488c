package hotswap;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The demo app, started in this JVM on a random port, with its database and socket in a temp
 * directory: a real HttpServer, a real Unix socket, real SQLite files.
 */
final class RunningApp implements AutoCloseable {
    final Path dir;
    final Path db;
    final Path socket;
    final hotswap.demo.DemoApp app;
    private final HttpClient http = HttpClient.newHttpClient();

    private RunningApp(Path dir, Path db, Path socket, hotswap.demo.DemoApp app) {
        this.dir = dir;
        this.db = db;
        this.socket = socket;
        this.app = app;
    }

    /** Starts the demo on a fresh database holding {@code names}. */
    static RunningApp start(String... names) throws Exception {
        Path dir = Fixtures.tempDir();
        Path db = dir.resolve("db").resolve("production.sqlite3");
        java.nio.file.Files.createDirectories(db.getParent());
        Fixtures.itemsDb(db, names);
        Path socket = dir.resolve("hotswap.sock");
        return new RunningApp(dir, db, socket, hotswap.demo.DemoApp.start(0, db, socket));
    }

    /** Environment for a CLI child process that points it at this app's socket. */
    Map<String, String> env() {
        return Map.of("HOTSWAP_SOCKET", socket.toString());
    }

    Fixtures.Result cli(Path cwd, byte[] stdin, String... args) throws Exception {
        return Fixtures.cli(cwd, env(), stdin, args);
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String form) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + path))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString(form)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() {
        app.close();
        Fixtures.deleteTree(dir);
    }

    /** A bare HttpServer with a real executor, for tests that bring their own handlers. */
    static HttpServer httpServer(ExecutorService[] executorOut) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        ExecutorService executor = Executors.newFixedThreadPool(32);
        server.setExecutor(executor);
        executorOut[0] = executor;
        return server;
    }
}
