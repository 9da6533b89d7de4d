namespace SoftmaxGpu.Data;

/// <summary>How features are scaled before training (--scale); the model keeps the scaling and applies it at predict time.</summary>
public enum FeatureScaling
{
    /// <summary>(x − mean) / std, the default: L-BFGS converges in the fewest iterations on centred, unit-variance columns.
    /// Sparse rows are centred implicitly (the mean folded into the bias), never filled in.</summary>
    Std,
    /// <summary>x / max|x| per column, no centring (scikit-learn's MaxAbsScaler): keeps zeros and signs, values in [−1, 1].</summary>
    MaxAbs,
    /// <summary>x as given: the objective is exactly scikit-learn's LogisticRegression on the raw matrix.</summary>
    None,
}

/// <summary>
/// Per-feature standardization x' = (x − mean) / std with the training set's mean and (population) std,
/// kept in the model and applied again at predict time. A constant feature gets std 1, so it maps to 0.
/// Sparse data is scaled without centring (mean stored as 0, as scikit-learn's StandardScaler(with_mean=False)):
/// centring would make every zero nonzero. With an unpenalized bias the optimum predicts the same either way.
/// </summary>
public sealed class Standardizer
{
    public Standardizer(double[] mean, double[] std)
    {
        if (mean.Length != std.Length)
            throw new ArgumentException("mean and std must have one entry per feature");
        Mean = mean;
        Std = std;
    }

    public double[] Mean { get; }
    public double[] Std { get; }

    /// <summary>Mean and std of each column of X: [N, D], accumulated in float64.</summary>
    /// <param name="centre">False: the mean kept is 0 (scale only); the std is still taken about the mean.</param>
    public static Standardizer Fit(float[] features, int rows, int dim, bool centre = true)
    {
        var mean = new double[dim];
        var std = new double[dim];
        for (long r = 0; r < rows; r++)
            for (int j = 0; j < dim; j++)
                mean[j] += features[r * dim + j];
        for (int j = 0; j < dim; j++)
            mean[j] /= rows;
        for (long r = 0; r < rows; r++)
            for (int j = 0; j < dim; j++)
            {
                double delta = features[r * dim + j] - mean[j];
                std[j] += delta * delta;
            }
        for (int j = 0; j < dim; j++)
            std[j] = OneIfConstant(Math.Sqrt(std[j] / rows));
        if (!centre)
            Array.Clear(mean);
        return new Standardizer(mean, std);
    }

    /// <summary>The scaling <paramref name="scaling"/> of X: [N, D] (<see cref="Fit(float[], int, int, bool)"/> for std).</summary>
    public static Standardizer Fit(float[] features, int rows, int dim, FeatureScaling scaling) => scaling switch
    {
        FeatureScaling.Std => Fit(features, rows, dim),
        FeatureScaling.None => Identity(dim),
        _ => MaxAbs(features, rows, dim),
    };

    /// <summary>Mean 0, std 1: features as given.</summary>
    public static Standardizer Identity(int dim)
    {
        var std = new double[dim];
        Array.Fill(std, 1.0);
        return new Standardizer(new double[dim], std);
    }

    /// <summary>Mean 0, std = max |x| of each column (1 for a column of zeros).</summary>
    private static Standardizer MaxAbs(float[] features, int rows, int dim)
    {
        var largest = new double[dim];
        for (long r = 0; r < rows; r++)
            for (int j = 0; j < dim; j++)
                largest[j] = Math.Max(largest[j], Math.Abs(features[r * dim + j]));
        for (int j = 0; j < dim; j++)
            largest[j] = largest[j] > 0 ? largest[j] : 1.0;
        return new Standardizer(new double[dim], largest);
    }

    /// <summary>The std a feature is divided by: its population std, or 1 where it is (near) constant.</summary>
    public static double OneIfConstant(double std) => std > 1e-12 ? std : 1.0;

    /// <summary>A standardized copy of X: [N, D].</summary>
    public float[] Apply(float[] features)
    {
        int dim = Mean.Length;
        var result = new float[features.Length];
        for (long i = 0; i < features.Length; i++)
        {
            int j = (int)(i % dim);
            result[i] = (float)((features[i] - Mean[j]) / Std[j]);
        }
        return result;
    }
}
