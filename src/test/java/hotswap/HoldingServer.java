package hotswap;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A real HttpServer behind a Hotswap's filter, for tests that need a request in flight at a chosen
 * moment: {@code GET /hold} stays inside the gate until {@link #release()}, {@code GET /ping}
 * answers at once. Neither touches a database.
 */
final class HoldingServer implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor;
    private final HttpClient http = HttpClient.newHttpClient();
    private final CountDownLatch entered = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);

    HoldingServer(Hotswap hotswap) throws IOException {
        ExecutorService[] ex = new ExecutorService[1];
        server = RunningApp.httpServer(ex);
        executor = ex[0];
        server.createContext("/hold", exchange -> {
            entered.countDown();
            try {
                released.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            respond(exchange, "held");
        }).getFilters().add(hotswap.filter());
        server.createContext("/ping", exchange -> respond(exchange, "pong")).getFilters().add(hotswap.filter());
        server.start();
    }

    /** Sends {@code GET /hold} and returns once its handler runs, inside the gate; the future completes after {@link #release()}. */
    CompletableFuture<HttpResponse<String>> hold() throws InterruptedException {
        CompletableFuture<HttpResponse<String>> response = get("/hold");
        if (!entered.await(30, TimeUnit.SECONDS)) {
            throw new AssertionError("the holding request never reached its handler");
        }
        return response;
    }

    void release() {
        released.countDown();
    }

    CompletableFuture<HttpResponse<String>> get(String path) {
        return http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void respond(HttpExchange exchange, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        release();
        server.stop(0);
        executor.shutdownNow();
    }
}
