package hotswap.demo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import hotswap.Hotswap;
import hotswap.ManagedDatabase;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.sql.DataSource;

/**
 * A minimal JDK HttpServer app with hotswap embedded: {@code GET /items}, {@code POST /items},
 * {@code GET /health}. Configured by the environment: {@code PORT} (default 8080),
 * {@code HOTSWAP_DB} (default db/production.sqlite3, created when missing), {@code HOTSWAP_SOCKET}
 * (default tmp/sockets/hotswap.sock).
 */
public final class DemoApp implements AutoCloseable {
    private final HttpServer server;
    private final Hotswap hotswap;
    private final ExecutorService executor;

    private DemoApp(HttpServer server, Hotswap hotswap, ExecutorService executor) {
        this.server = server;
        this.hotswap = hotswap;
        this.executor = executor;
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
        }
        Map<String, String> env = System.getenv();
        String portText = env.getOrDefault("PORT", "8080");
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            throw exit("PORT=" + portText + " is not a port number; nothing started. Set PORT to a number such as 8081");
        }
        // An empty variable counts as unset, as for the client: Path.of("") would name the app's directory.
        Path db = Path.of(orDefault(env.get("HOTSWAP_DB"), "db/production.sqlite3"));
        Path socket = Path.of(orDefault(env.get("HOTSWAP_SOCKET"), Hotswap.DEFAULT_SOCKET.toString()));
        DemoApp app;
        try {
            app = start(port, db, socket);
        } catch (BindException e) {
            throw exit("cannot listen on 127.0.0.1:" + port + " (" + e.getMessage() + "); nothing started. Stop what "
                    + "listens there (another demo app?), or set PORT to another port: PORT=8081 make run");
        } catch (IOException | SQLException | IllegalArgumentException e) {
            throw exit(e.getMessage() + "; nothing started");
        }
        Runtime.getRuntime().addShutdownHook(new Thread(app::close));
        System.err.println("demo app on http://127.0.0.1:" + app.port() + "/items, database " + db
                + ", hotswap socket " + socket);
    }

    /** Says what went wrong in one line, as the CLI does, and exits 1: a stack trace tells a user nothing more. */
    private static Error exit(String message) {
        System.err.println("ERROR: " + message);
        System.exit(1);
        return new AssertionError(message); // not reached
    }

    private static String orDefault(String value, String otherwise) {
        return value == null || value.isEmpty() ? otherwise : value;
    }

    /** Creates the database if missing, then starts the HTTP server and the hotswap socket. */
    public static DemoApp start(int port, Path db, Path socket) throws IOException, SQLException {
        // Without TCP_NODELAY the JDK's HttpServer answers each keep-alive request late (Nagle against
        // delayed ACK), gate or not.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
        // The port first: a port in use is the likeliest failure, and then nothing is created.
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        try {
            createIfMissing(db);
            Hotswap hotswap = Hotswap.builder().database(db).socket(socket).build();
            DataSource data = hotswap.database(db).dataSource();
            server.createContext("/items", itemsHandler(data)).getFilters().add(0, hotswap.filter());
            server.createContext("/health", exchange -> respond(exchange, 200, "{\"status\":\"ok\"}")).getFilters().add(0, hotswap.filter());
            hotswap.start();
            ExecutorService executor = Executors.newFixedThreadPool(16);
            server.setExecutor(executor); // the default runs every request on one thread
            server.start();
            return new DemoApp(server, hotswap, executor);
        } catch (IOException | SQLException | RuntimeException e) {
            server.stop(0); // free the port for whoever tries next
            throw e;
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public ManagedDatabase database() {
        return hotswap.databases().get(0);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        hotswap.close();
    }

    static void createIfMissing(Path db) throws IOException, SQLException {
        if (Files.exists(db)) {
            return;
        }
        Path dir = db.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        // Built under another name and renamed, so a crash never leaves a half-made database; SQLite
        // creates it with the umask's mode, as it would the app's own file.
        Path temp = dir.resolve("." + db.getFileName() + ".demo-" + ProcessHandle.current().pid());
        Files.deleteIfExists(temp);
        try (Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + temp); Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)");
            s.execute("INSERT INTO items(name) VALUES ('alpha'), ('bravo'), ('charlie')");
        }
        Files.move(temp, db, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** The demo's {@code /items} handler on {@code data}; the benchmark serves it with and without the gate. */
    public static HttpHandler itemsHandler(DataSource data) {
        return exchange -> items(exchange, data);
    }

    private static void items(HttpExchange exchange, DataSource data) throws IOException {
        try {
            switch (exchange.getRequestMethod()) {
                case "GET" -> respond(exchange, 200, listItems(data));
                case "POST" -> {
                    String name = formField(exchange.getRequestBody(), "name");
                    if (name == null || name.isEmpty()) {
                        respond(exchange, 400, "{\"error\":\"form field name is required\"}");
                    } else {
                        insert(data, name);
                        respond(exchange, 201, "{\"name\":" + json(name) + "}");
                    }
                }
                default -> respond(exchange, 405, "{\"error\":\"use GET or POST\"}");
            }
        } catch (SQLException e) {
            respond(exchange, 500, "{\"error\":" + json(e.getMessage()) + "}");
        }
    }

    private static String listItems(DataSource data) throws SQLException {
        StringBuilder out = new StringBuilder("[");
        try (Connection c = data.getConnection(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT name FROM items ORDER BY id")) {
            while (r.next()) {
                if (out.length() > 1) {
                    out.append(',');
                }
                out.append(json(r.getString(1)));
            }
        }
        return out.append(']').toString();
    }

    private static void insert(DataSource data, String name) throws SQLException {
        try (Connection c = data.getConnection(); PreparedStatement p = c.prepareStatement("INSERT INTO items(name) VALUES (?)")) {
            p.setString(1, name);
            p.executeUpdate();
        }
    }

    private static String formField(InputStream body, String field) throws IOException {
        String form = new String(body.readNBytes(64 * 1024), StandardCharsets.UTF_8);
        for (String pair : form.split("&")) {
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            if (key.equals(field)) {
                return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    static String json(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (ch < 0x20) {
                        b.append(String.format("\\u%04x", (int) ch));
                    } else {
                        b.append(ch);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /** Sends {@code body} as the JSON response with {@code status}, and closes the exchange. */
    public static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
