package hotswap.bench;

import hotswap.demo.DemoApp;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import hotswap.Hotswap;
import hotswap.ManagedDatabase;
import hotswap.SwapListener;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import javax.sql.DataSource;

/**
 * The app under test, run by {@link Bench} as its own JVM: the demo's {@code GET /items} handler (the same code)
 * and a handler that waits 5 ms ({@code /slow}), served twice on two ports by two HttpServers
 * with the demo's settings (a fixed pool of 16 threads) plus TCP_NODELAY: once with {@code hotswap.filter()} on
 * every context, once without. Both read the same managed database through the same DataSource,
 * so the filter is the only difference. Prints {@code ready GATED_PORT PLAIN_PORT} on stdout.
 *
 * <p>A swap listener prints {@code bench-swap-window BEFORE_NANOS AFTER_NANOS} on stderr for each
 * swap: {@link System#nanoTime()} (CLOCK_MONOTONIC on Linux, the same clock in every process)
 * when the gate had closed and the listeners ran, and when the new file was open again.
 *
 * <p>Usage: {@code BenchApp DB SOCKET}.
 */
public final class BenchApp {
    private BenchApp() {
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
        }
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            // Without TCP_NODELAY the JDK HttpServer sends headers and body as two segments, and Nagle
            // holds the second until the client's delayed ACK: about 40 ms per keep-alive request.
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
        Path db = Path.of(args[0]);
        Path socket = Path.of(args[1]);
        Hotswap hotswap = Hotswap.builder().database(db).socket(socket).build();
        ManagedDatabase managed = hotswap.database(db);
        // The listener runs while requests wait: it only takes the times, and a thread of its own prints them.
        BlockingQueue<String> windows = new LinkedBlockingQueue<>();
        managed.addSwapListener(new SwapListener() {
            private volatile long before;

            @Override
            public void beforeSwap(ManagedDatabase database) {
                before = System.nanoTime();
            }

            @Override
            public void afterSwap(ManagedDatabase database, boolean replaced) {
                windows.add("bench-swap-window " + before + " " + System.nanoTime());
            }
        });
        Thread printer = new Thread(() -> {
            try {
                while (true) {
                    System.err.println(windows.take());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "bench-swap-window-printer");
        printer.setDaemon(true);
        printer.start();
        DataSource data = managed.dataSource();
        HttpServer gated = server(data, hotswap, true);
        HttpServer plain = server(data, hotswap, false);
        hotswap.start();
        gated.start();
        plain.start();
        System.out.println("ready " + gated.getAddress().getPort() + " " + plain.getAddress().getPort());
        System.out.flush();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            gated.stop(0);
            plain.stop(0);
            hotswap.close();
        }));
    }

    private static HttpServer server(DataSource data, Hotswap hotswap, boolean withGate) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        ExecutorService executor = Executors.newFixedThreadPool(16);
        server.setExecutor(executor);
        add(server, "/items", DemoApp.itemsHandler(data), hotswap, withGate);
        add(server, "/slow", BenchApp::slow, hotswap, withGate);
        add(server, "/health", exchange -> DemoApp.respond(exchange, 200, "{\"status\":\"ok\"}"), hotswap, withGate);
        return server;
    }

    private static void add(HttpServer server, String path, HttpHandler handler, Hotswap hotswap, boolean withGate) {
        var context = server.createContext(path, handler);
        if (withGate) {
            context.getFilters().add(hotswap.filter());
        }
    }

    /** A handler that waits 5 ms, as one waiting on another service would. */
    private static void slow(HttpExchange exchange) throws IOException {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        DemoApp.respond(exchange, 200, "{\"waited_ms\":5}");
    }
}
