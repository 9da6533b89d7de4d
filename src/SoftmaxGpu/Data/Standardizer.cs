namespace SoftmaxGpu.Data;

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
