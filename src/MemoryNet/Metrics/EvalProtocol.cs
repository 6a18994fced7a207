namespace MemoryNet.Metrics;

/// <summary>Which channel(s) PSNR and SSIM see.</summary>
public enum MetricColor
{
    /// <summary>R, G, B: PSNR over all samples, SSIM averaged over the three channels.</summary>
    Rgb,
    /// <summary>MATLAB rgb2ycbcr Y of a uint8 image (BT.601 studio swing, rounded to 8 bits).</summary>
    YMatlab,
    /// <summary>OpenCV BGR2YCrCb Y (full range, rounded to 8 bits by OpenCV's fixed point).</summary>
    YOpenCv,
}

/// <summary>
/// An evaluation protocol: how images are prepared and scored. Every number the tool reports names
/// the protocol that produced it. Steps in order: quantise to 8 bits; resize (bicubic, MATLAB
/// imresize) when <see cref="ResizeTo"/> is set; crop to a multiple of <see cref="CropMultiple"/>
/// (top-left kept); crop the user's border; convert colour; PSNR (MAX 255) and SSIM; LAB errors per
/// region when <see cref="ShadowLab"/>.
/// </summary>
public sealed record EvalProtocol(string Name, string Description, string Source)
{
    public MetricColor Color { get; init; } = MetricColor.Rgb;
    public SsimOptions Ssim { get; init; } = SsimOptions.Matlab;
    /// <summary>Crop both images (top-left anchored) to a multiple of this; 1 = no crop.</summary>
    public int CropMultiple { get; init; } = 1;
    /// <summary>Resize image, target and mask to this square size first (MATLAB imresize bicubic); null = original
    /// size.</summary>
    public int? ResizeTo { get; init; }
    /// <summary>Also report the LAB mean absolute error ("RMSE") for all / shadow / non-shadow regions; needs
    /// masks.</summary>
    public bool ShadowLab { get; init; }

    /// <summary>Prediction and target may differ in size only when the protocol resizes both.</summary>
    public bool AllowsSizeMismatch => ResizeTo is not null;
}

/// <summary>The protocol registry: the one place that defines each protocol. Adding a protocol is adding an
/// entry.</summary>
public static class EvalProtocols
{
    public static readonly IReadOnlyList<EvalProtocol> All =
    [
        new("rgb",
            "PSNR and SSIM (11x11 Gaussian, sigma 1.5) on 8-bit RGB, full image, mean over images",
            "MPRNet GoPro evaluation (PSNR/SSIM on RGB); skimage structural_similarity(gaussian_weights=True, " +
                "sigma=1.5, use_sample_covariance=False, data_range=255)"),
        new("y",
            "PSNR and SSIM (11x11 Gaussian, sigma 1.5) on the MATLAB rgb2ycbcr Y channel of 8-bit images (16..235, " +
                "rounded to 8 bits as MATLAB does for uint8)",
            "MPRNet Deraining/evaluate_PSNR_SSIM.m (rgb2ycbcr Y); MemoryNet's evaluation")
        { Color = MetricColor.YMatlab },
        new("raindrop",
            "OpenCV YCrCb Y of 8-bit images, both cropped to a multiple of 4; PSNR on Y; SSIM with skimage defaults " +
                "(7x7 uniform, sample covariance, data range 255)",
            "Qian et al. CVPR'18 (AttentiveGAN) metrics.py: cv2.cvtColor(BGR2YCR_CB), align_to_four, " +
                "compare_psnr / compare_ssim")
        { Color = MetricColor.YOpenCv, Ssim = SsimOptions.SkimageDefault, CropMultiple = 4 },
        new("istd",
            "image, target and mask resized to 256x256 (MATLAB imresize bicubic, antialiased); PSNR/SSIM on RGB; LAB " +
                "mean absolute error (\"RMSE\") for all, shadow (mask > 0) and non-shadow pixels, per pixel over " +
                "the set and per image",
            "ShadowFormer (AAAI'23) / Zhu et al. AAAI'22 measure_shadow.m")
        { ResizeTo = 256, ShadowLab = true },
        new("istd-full",
            "as istd but at the original resolution",
            "Wang et al. CVPR'18 (ST-CGAN), Le & Samaras ICCV'19 evaluation at 640x480")
        { ShadowLab = true },
    ];

    public static IEnumerable<string> Names => All.Select(p => p.Name);

    public static EvalProtocol Get(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new UserInputException($"unknown protocol '{name}' (known: {string.Join(", ", Names)})");
}
