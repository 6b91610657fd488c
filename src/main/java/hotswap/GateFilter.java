package hotswap;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;
import hotswap.wire.Printable;
import java.io.IOException;

/** Runs each HTTP request inside the {@link SwapGate}, so a swap never happens under it. */
final class GateFilter extends Filter {
    private final SwapGate gate;

    GateFilter(SwapGate gate) {
        this.gate = gate;
    }

    @Override
    public void doFilter(HttpExchange exchange, Chain chain) throws IOException {
        // The path as sent, still percent-encoded: decoded, a client's %0A would start a line of its own in the app's log.
        String what = Printable.of(exchange.getRequestMethod()) + " " + exchange.getRequestURI().getRawPath();
        try (SwapGate.Pass pass = gate.enter(what)) {
            chain.doFilter(exchange);
        }
    }

    @Override
    public String description() {
        return "hotswap gate: holds requests while a database is swapped";
    }
}
