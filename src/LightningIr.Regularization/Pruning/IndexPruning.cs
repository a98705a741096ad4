namespace LightningIr.Regularization;

/// <summary>
/// Index-wide static pruning over a collection given in batches: one impact threshold for every entry
/// (agnostic pruning) and per-term thresholds for posting lists (term-centric pruning). Apply the results batch by batch
/// with <see cref="StaticPruning.Threshold"/>, <see cref="StaticPruning.TermThreshold"/> or
/// <see cref="StaticPruning.TermMaxRatio"/>.
/// </summary>
/// <remarks>
/// <para>
/// The agnostic and term-centric pruning of Lassance et al., "A Static Pruning Study on Sparse Neural Retrievers"
/// (SIGIR 2023, arXiv:2304.12702); no Lightning IR counterpart (OpenSearch's <c>prune_type</c> prunes one vector at a time).
/// </para>
/// <para>
/// Each batch is a floating-point tensor shaped <c>[batch, ..., dim]</c>; every batch has the first one's dtype, device
/// and <c>dim</c>. An entry's impact is its magnitude. Padding vectors should be zero: only non-zero entries count.
/// Tensors that the sequence creates while it is enumerated are disposed once read; tensors that already existed are
/// left alone. NaN or infinite entries are refused once the pass that found them ends.
/// </para>
/// </remarks>
public static class IndexPruning
{
    /// <summary>Bins of the first radix pass, at most: exponents times leading mantissa bits.</summary>
    private const int FirstPassBins = 1 << 17;

    /// <summary>Mantissa bits read by each later radix pass, at most.</summary>
    private const int LaterPassBits = 16;

    /// <summary>float64's mantissa bits: every impact is read as a float64 <c>(2⁵² + mantissa) · 2^(exponent − 53)</c>.</summary>
    private const int MantissaBits = 52;

    /// <summary>
    /// The impact threshold that keeps at most <paramref name="maxKept"/> of the collection's non-zero entries: the
    /// magnitude of the entry ranked <c>maxKept + 1</c> when every entry is sorted by magnitude, or 0 when the collection
    /// holds no more than <paramref name="maxKept"/> non-zero entries.
    /// </summary>
    /// <remarks>
    /// Exact, with memory bounded by the batch and a histogram of at most 2¹⁷ counts: a radix select on the bits of each
    /// magnitude, one histogram pass over all batches per digit, the first digit being the exponent and the leading mantissa
    /// bits, each later pass counting only the entries that share the digits found so far. float16 and bfloat16 take one
    /// pass, float32 two, float64 four; each pass reads every batch once and copies one histogram to the host. Only the
    /// non-zero entries are gathered (one host synchronisation per batch and pass, to size them) and counted.
    /// </remarks>
    /// <param name="batches">The collection's vectors, in batches; enumerated once per pass, yielding the same vectors each time.</param>
    /// <param name="maxKept">How many non-zero entries may stay, ≥ 0.</param>
    /// <returns>The threshold, how many entries it keeps and how many passes it took.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="batches"/> or one of its tensors is null.</exception>
    /// <exception cref="ArgumentException">There are no batches, a batch is not as described, or an entry is NaN or infinite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxKept"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">The batches changed from one pass to the next.</exception>
    public static PruningThreshold CollectionThreshold(IEnumerable<Tensor> batches, long maxKept)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentOutOfRangeException.ThrowIfNegative(maxKept);
        return Select(batches, _ => maxKept);
    }

    /// <summary>
    /// The impact threshold that keeps at most <paramref name="share"/> of the collection's non-zero entries:
    /// <see cref="CollectionThreshold"/> with <c>maxKept = ⌊share · non-zero entries⌋</c>.
    /// </summary>
    /// <remarks>Same cost and exactness as <see cref="CollectionThreshold"/>; the count comes from the first pass.</remarks>
    /// <param name="batches">The collection's vectors, in batches; enumerated once per pass, yielding the same vectors each time.</param>
    /// <param name="share">The share of non-zero entries that may stay, in (0, 1].</param>
    /// <returns>The threshold, how many entries it keeps and how many passes it took.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="batches"/> or one of its tensors is null.</exception>
    /// <exception cref="ArgumentException">There are no batches, a batch is not as described, or an entry is NaN or infinite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="share"/> is not in (0, 1].</exception>
    /// <exception cref="InvalidOperationException">The batches changed from one pass to the next.</exception>
    public static PruningThreshold CollectionThresholdForShare(IEnumerable<Tensor> batches, double share)
    {
        ArgumentNullException.ThrowIfNull(batches);
        StaticPruning.CheckShare(share, nameof(share));
        return Select(batches, nonZero => (long)decimal.Floor((decimal)share * nonZero));
    }

    /// <summary>
    /// Per-term thresholds that keep at most <paramref name="maxPerTerm"/> entries in each posting list: for term j, the
    /// magnitude ranked <c>maxPerTerm + 1</c> in column j over the whole collection (0 where fewer entries are non-zero).
    /// </summary>
    /// <remarks>
    /// Term-centric pruning (Lassance et al., SIGIR 2023). One pass: a running <c>topk</c> over documents keeps
    /// <c>(maxPerTerm + 1) × dim</c> values of the input's dtype on its device. Entries that tie at a term's threshold are all
    /// cut, so a list may keep fewer. Reads one value back to the host, at the end.
    /// </remarks>
    /// <param name="batches">The collection's vectors, in batches, enumerated once.</param>
    /// <param name="maxPerTerm">How many entries each posting list may keep, ≥ 1.</param>
    /// <returns>A tensor of shape <c>[dim]</c> in the caller's dispose scope, for <see cref="StaticPruning.TermThreshold"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="batches"/> or one of its tensors is null.</exception>
    /// <exception cref="ArgumentException">There are no batches, a batch is not as described, or an entry is NaN or infinite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxPerTerm"/> is below 1 or too large for <c>topk</c>.</exception>
    public static Tensor TermTopKThresholds(IEnumerable<Tensor> batches, long maxPerTerm)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerTerm, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(maxPerTerm, int.MaxValue);
        var rows = (int)maxPerTerm + 1;
        var top = Reduce(
            batches,
            first => zeros(rows, first.shape[^1], first.dtype, first.device),
            (state, impacts) => cat([state, impacts], 0).topk(rows, dim: 0).Item1);
        using var scope = NewDisposeScope();
        using (top)
        {
            return top.select(0, maxPerTerm).clone().MoveToOuterDisposeScope();
        }
    }

    /// <summary>The largest magnitude of each term over the whole collection, for <see cref="StaticPruning.TermMaxRatio"/>.</summary>
    /// <remarks>Term-centric pruning (Lassance et al., SIGIR 2023). One pass, <c>dim</c> values of state; reads one value back to the host, at the end.</remarks>
    /// <param name="batches">The collection's vectors, in batches, enumerated once.</param>
    /// <returns>A tensor of shape <c>[dim]</c> in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="batches"/> or one of its tensors is null.</exception>
    /// <exception cref="ArgumentException">There are no batches, a batch is not as described, or an entry is NaN or infinite.</exception>
    public static Tensor TermMaxima(IEnumerable<Tensor> batches)
    {
        ArgumentNullException.ThrowIfNull(batches);
        var maxima = Reduce(
            batches,
            first => zeros(1, first.shape[^1], first.dtype, first.device),
            (state, impacts) => cat([state, impacts], 0).amax([0], keepdim: true));
        using var scope = NewDisposeScope();
        using (maxima)
        {
            return maxima.squeeze(0).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Folds the batches' magnitudes, flattened to <c>[vectors, dim]</c>, into a state; refuses non-finite entries at the end.</summary>
    private static Tensor Reduce(IEnumerable<Tensor> batches, Func<Tensor, Tensor> start, Func<Tensor, Tensor, Tensor> fold)
    {
        Tensor? state = null;
        Tensor? finite = null;
        try
        {
            var layout = default(BatchLayout);
            using var batch = batches.GetEnumerator();
            while (true)
            {
                using var scope = NewDisposeScope();
                if (!batch.MoveNext())
                {
                    break;
                }

                var vectors = layout.Check(batch.Current, nameof(batches));
                if (state is null)
                {
                    state = start(vectors).MoveToOuterDisposeScope();
                    finite = ones(1, ScalarType.Bool, vectors.device).MoveToOuterDisposeScope();
                }

                var impacts = vectors.detach().abs().reshape(-1, vectors.shape[^1]);
                var next = fold(state, impacts).MoveToOuterDisposeScope();
                state.Dispose();
                state = next;
                var both = finite!.logical_and(impacts.isfinite().all()).MoveToOuterDisposeScope();
                finite.Dispose();
                finite = both;
            }

            if (state is null)
            {
                throw new ArgumentException("The collection holds no batches.", nameof(batches));
            }

            if (!finite!.item<bool>())
            {
                throw NonFinite(nameof(batches));
            }

            var result = state;
            state = null;
            return result;
        }
        finally
        {
            state?.Dispose();
            finite?.Dispose();
        }
    }

    /// <summary>The radix select behind both collection thresholds; <paramref name="limit"/> maps the non-zero count to the entries that may stay.</summary>
    private static PruningThreshold Select(IEnumerable<Tensor> batches, Func<long, long> limit)
    {
        RadixDigits? digits = null;
        var counts = Histogram(batches, ref digits, out var nonFinite);
        if (nonFinite > 0)
        {
            throw NonFinite(nameof(batches));
        }

        var nonZero = counts.Sum();
        var maxKept = limit(nonZero);
        if (maxKept >= nonZero)
        {
            return new PruningThreshold(0, nonZero, nonZero, 1);
        }

        var rank = maxKept + 1;
        long kept = 0;
        var passes = 1;
        while (true)
        {
            var digit = counts.Length - 1;
            long above = 0;
            while (above + counts[digit] < rank)
            {
                above += counts[digit];
                digit--;
            }

            kept += above;
            rank -= above;
            digits!.Take(digit);
            if (digits.Complete)
            {
                return new PruningThreshold(digits.Value, kept, nonZero, passes);
            }

            var expected = counts[digit];
            counts = Histogram(batches, ref digits, out _);
            passes++;
            if (counts.Sum() != expected)
            {
                throw new InvalidOperationException(
                    "The batches changed between two passes of the collection threshold: the sequence must yield the same vectors each time it is enumerated.");
            }
        }
    }

    /// <summary>
    /// One pass: counts the selected entries by their next digit, and the non-finite entries. Creates
    /// <paramref name="digits"/> for the first batch's dtype on the first pass.
    /// </summary>
    private static long[] Histogram(IEnumerable<Tensor> batches, ref RadixDigits? digits, out long nonFinite)
    {
        var layout = default(BatchLayout);
        Tensor? counts = null;
        try
        {
            using var batch = batches.GetEnumerator();
            while (true)
            {
                using var scope = NewDisposeScope();
                if (!batch.MoveNext())
                {
                    break;
                }

                var vectors = layout.Check(batch.Current, nameof(batches));
                digits ??= new RadixDigits(vectors.dtype);
                var impacts = vectors.detach().abs().flatten();
                var index = digits.Index(impacts.index_select(0, impacts.ne(0).nonzero().squeeze(1)).to(ScalarType.Float64));
                var batchCounts = index.bincount(null, digits.Bins + 2);
                var total = counts is null ? batchCounts : counts.add(batchCounts);
                counts?.Dispose();
                counts = total.MoveToOuterDisposeScope();
            }

            if (counts is null)
            {
                throw new ArgumentException("The collection holds no batches.", nameof(batches));
            }

            using var host = counts.cpu();
            var all = host.data<long>().ToArray();
            nonFinite = all[digits!.Bins];
            return all[..digits.Bins];
        }
        finally
        {
            counts?.Dispose();
        }
    }

    private static ArgumentException NonFinite(string paramName) => new(
        "The collection holds NaN or infinite entries; pruning ranks entries by magnitude, which needs finite values.", paramName);

    /// <summary>The first batch's dtype, device and length, which every later batch must share.</summary>
    private struct BatchLayout
    {
        private bool seen;
        private long dim;
        private ScalarType dtype;
        private DeviceType deviceType;
        private int deviceIndex;

        public Tensor Check(Tensor? vectors, string paramName)
        {
            if (vectors is null)
            {
                throw new ArgumentNullException(paramName, "The collection yielded a null batch.");
            }

            Guard.CheckEmbeddings(vectors, "batch", paramName);
            if (!seen)
            {
                (seen, dim, dtype, deviceType, deviceIndex) = (true, vectors.shape[^1], vectors.dtype, vectors.device.type, vectors.device.index);
            }
            else if (vectors.dtype != dtype || vectors.shape[^1] != dim)
            {
                throw new ArgumentException(
                    $"Every batch must have the first batch's dtype {dtype} and length {dim}, but one has dtype {vectors.dtype} and shape {Guard.Format(vectors.shape)}.",
                    paramName);
            }
            else if (vectors.device.type != deviceType || vectors.device.index != deviceIndex)
            {
                throw new ArgumentException(
                    $"Every batch must be on the first batch's device {vectors.device.type}:{deviceIndex}, but one is on {vectors.device}.", paramName);
            }

            return vectors;
        }
    }

    /// <summary>
    /// The digits found so far of the selected magnitude, read as a float64 <c>(2⁵² + mantissa) · 2^(exponent − 53)</c>
    /// with <c>frexp</c>'s exponent: the first digit is the exponent and the leading mantissa bits, each later digit the
    /// next mantissa bits, until the input dtype's mantissa is known.
    /// </summary>
    private sealed class RadixDigits
    {
        private readonly int minExponent;
        private readonly int exponents;
        private readonly int mantissaBits;
        private bool exponentKnown;
        private long exponent;
        private long mantissa;
        private int consumed;
        private int width;

        public RadixDigits(ScalarType dtype)
        {
            // frexp's exponents of the dtype's smallest positive and largest finite values.
            (minExponent, var maxExponent, mantissaBits) = dtype switch
            {
                ScalarType.Float16 => (-23, 16, 10),
                ScalarType.BFloat16 => (-132, 128, 7),
                ScalarType.Float32 => (-148, 128, 23),
                _ => (-1073, 1024, MantissaBits),
            };
            exponents = maxExponent - minExponent + 1;
            // Stryker disable once Equality,Arithmetic : the bins' number is memory, not the result (every width gives the same threshold), and no dtype meets the bound exactly.
            while (width < mantissaBits && (exponents << (width + 1)) <= FirstPassBins)
            {
                width++;
            }
        }

        /// <summary>How many digit bins this pass counts.</summary>
        public int Bins => exponentKnown ? 1 << width : exponents << width;

        /// <summary>Whether every mantissa bit of the dtype is known.</summary>
        public bool Complete => consumed == mantissaBits;

        /// <summary>The magnitude the digits spell, exact once <see cref="Complete"/>.</summary>
        public double Value => Math.ScaleB((double)((1L << MantissaBits) + mantissa), (int)exponent - MantissaBits - 1);

        /// <summary>Records the boundary digit of the pass just made and sizes the next one.</summary>
        public void Take(long digit)
        {
            if (!exponentKnown)
            {
                // Stryker disable once Bitwise : digits are non-negative, where both shifts agree.
                exponent = (digit >> width) + minExponent;
                exponentKnown = true;
                mantissa = (digit & ((1L << width) - 1)) << (MantissaBits - width);
            }
            else
            {
                mantissa += digit << (MantissaBits - consumed - width);
            }

            consumed += width;
            width = Math.Min(LaterPassBits, mantissaBits - consumed);
        }

        /// <summary>Each entry's digit for this pass, <see cref="Bins"/> for a non-finite entry, <see cref="Bins"/> + 1 for an entry not selected.</summary>
        public Tensor Index(Tensor impacts)
        {
            // Explicit scalars, disposed after the calls: an implicitly converted one can be finalized by the collector
            // while the native call still reads it (TorchSharp 0.107 does not keep it alive), which corrupted a fill
            // value under the allocation pressure of a whole-collection pass.
            using var scale = Math.ScaleB(1, MantissaBits + 1).ToScalar();
            using var implicitBit = Scalar(1L << MantissaBits);
            using var zero = Scalar(0);
            var (fraction, exponents64) = impacts.frexp();
            var bits = fraction.mul(scale).to(ScalarType.Int64).sub(implicitBit);
            var entryExponent = exponents64.to(ScalarType.Int64);
            var finite = impacts.isfinite();
            var selected = impacts.gt(zero).logical_and(finite);
            Tensor digit;
            if (!exponentKnown)
            {
                using var offset = Scalar(minExponent);
                using var binsPerExponent = Scalar(1L << width);
                using var dropped = Scalar(1L << (MantissaBits - width));
                digit = entryExponent.sub(offset).mul(binsPerExponent).add(bits.floor_divide(dropped));
            }
            else
            {
                using var known = Scalar(exponent);
                using var prefixUnit = Scalar(1L << (MantissaBits - consumed));
                // Stryker disable once Bitwise : the mantissa is non-negative, where both shifts agree.
                using var prefix = Scalar(mantissa >> (MantissaBits - consumed));
                using var digitUnit = Scalar(1L << (MantissaBits - consumed - width));
                using var digitBins = Scalar(1L << width);
                selected = selected
                    .logical_and(entryExponent.eq(known))
                    .logical_and(bits.floor_divide(prefixUnit).eq(prefix));
                digit = bits.floor_divide(digitUnit).remainder(digitBins);
            }

            using var notSelectedBin = Scalar(Bins + 1L);
            using var nonFiniteBin = Scalar(Bins);
            return digit.masked_fill(selected.logical_not(), notSelectedBin).masked_fill(finite.logical_not(), nonFiniteBin);
        }

        private static Scalar Scalar(long value) => value.ToScalar();
    }
}
