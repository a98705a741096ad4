namespace LightningIr.Regularization;

/// <summary>
/// The dispose scope of one public call into the library. Opening it also records, for the outermost call on the
/// thread, whether the caller has a dispose scope of its own: the fused backward passes (<see cref="FusedPenalties"/>)
/// hand their gradient to the scope that is current when autograd runs them, so they are only used when there is one.
/// Nested calls (an objective calling its regularizers) inherit what the outermost call found.
/// </summary>
internal readonly struct CallScope : IDisposable
{
    [ThreadStatic] private static int depth;
    [ThreadStatic] private static bool callerHasScope;

    private readonly DisposeScope scope;

    private CallScope(DisposeScope scope) => this.scope = scope;

    /// <summary>Whether the caller of the outermost public call on this thread has a dispose scope (read inside a call).</summary>
    public static bool CallerHasDisposeScope => callerHasScope;

    /// <summary>Opens the call's dispose scope (after probing the caller's, when this is the outermost call).</summary>
    public static CallScope Open()
    {
        if (depth == 0)
        {
            callerHasScope = ProbeCurrentScope();
            FusedPenalties.ReleaseReturnedGradient();
        }

        var opened = new CallScope(NewDisposeScope());
        depth++;
        return opened;
    }

    /// <summary>Disposes everything the call left in its scope and ends the call.</summary>
    public void Dispose()
    {
        depth--;
        scope.Dispose();
    }

    /// <summary>
    /// TorchSharp keeps the current scope internal; the thread's statistics tell where a new tensor was registered.
    /// The probe is a 0-element tensor, created and disposed at once (about a microsecond).
    /// </summary>
    private static bool ProbeCurrentScope()
    {
        var statistics = DisposeScopeManager.Statistics;
        var before = statistics.CreatedInScopeCount;
        empty(0).Dispose();
        return statistics.CreatedInScopeCount != before;
    }
}
